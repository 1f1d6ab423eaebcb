"""The FETCH fast path (``wire._fetch_fast``) gives the general tokenizer's items for the
answers it reads, and leaves everything else to it: odd answers still parse the same way,
and what is not IMAP is still a ``ProtocolError``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.protocols.imap.wire import (
    ProtocolError,
    _fetch_fast,
    parse_response,
    tokenize,
    tokenize_any,
)

SECTION = b"BODY[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES)]"


def answer(
    flags: bytes = b"\\Seen",
    date: bytes = b"04-Dec-2026 23:40:46 +0000",
    section: bytes = SECTION,
    literal: bytes = b"Subject: hi\r\n\r\n",
    size: int | None = None,
) -> list[bytes]:
    n = len(literal) if size is None else size
    head = b'(UID 17 FLAGS (%s) INTERNALDATE "%s" RFC822.SIZE 2597 %s {%d}\r\n' % (
        flags,
        date,
        section,
        n,
    )
    return [head, literal, b")\r\n"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"\\Seen",
                b"\\Answered",
                b"$Forwarded",
                b"$Junk",
                b"nil",
                b"NIL",
                b"k\xc3\xa9",
                b"a]",
                b"",
                b"\\*",
                b"x}y",
            ]
        ),
        max_size=4,
    ),
    st.sampled_from([b"04-Dec-2026 23:40:46 +0000", b" 4-Dec-2026 23:40:46 +0000", b'a\\"b', b""]),
    st.sampled_from([SECTION, b"BODY[]", b"BODY[HEADER]", b"BODY[HEADER.FIELDS ()]"]),
    st.binary(max_size=40),
    st.sampled_from([" ", "  "]),
)
def test_the_fast_path_agrees_with_the_tokenizer(
    flags: list[bytes], date: bytes, section: bytes, literal: bytes, sep: str
) -> None:
    segments = answer(sep.encode().join(flags), date, section, literal)
    fast = _fetch_fast(segments)
    try:
        general = tokenize_any(segments)
    except ProtocolError:
        assert fast is None
        return
    assert tokenize(segments) == general
    if fast is not None:
        assert fast == general


def test_the_common_answer_takes_the_fast_path() -> None:
    segments = answer()
    assert _fetch_fast(segments) == [
        [
            "UID",
            "17",
            "FLAGS",
            ["\\Seen"],
            "INTERNALDATE",
            "04-Dec-2026 23:40:46 +0000",
            "RFC822.SIZE",
            "2597",
            SECTION.decode(),
            b"Subject: hi\r\n\r\n",
        ]
    ]
    assert _fetch_fast(answer(flags=b"")) == tokenize_any(answer(flags=b""))


@pytest.mark.parametrize(
    "segments",
    [
        answer(flags=b"NIL"),  # None to the tokenizer
        answer(flags=b"\\Seen  \\Answered"),
        answer(date=b'a\\"b'),  # an escaped quote
        answer(size=3),  # the marker says another length than the literal has
        [b'(FLAGS () UID 17 INTERNALDATE "x" RFC822.SIZE 1 BODY[] {1}\r\n', b"x", b")\r\n"],
        [b"(UID 17 FLAGS ())\r\n"],
        [*answer()[:2], b" MODSEQ (5))\r\n"],
    ],
)
def test_other_answers_go_to_the_tokenizer(segments: list[bytes]) -> None:
    assert _fetch_fast(segments) is None


@pytest.mark.parametrize(
    "segments",
    [
        [b"(UID 1 FLAGS (\\Seen)\r\n"],  # unbalanced
        [b'(UID 17 FLAGS (\\Seen) INTERNALDATE "x RFC822.SIZE 1 BODY[] {1}\r\n', b"x", b")\r\n"],
        [answer()[0].replace(b"(UID", b"((UID"), b"Subject: hi\r\n\r\n", b")\r\n"],
    ],
)
def test_what_is_not_imap_is_still_refused(segments: list[bytes]) -> None:
    with pytest.raises(ProtocolError):
        parse_response([b"* 1 FETCH " + segments[0], *segments[1:]])

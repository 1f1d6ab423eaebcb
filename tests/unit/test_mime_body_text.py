"""body_text's fast reader (``_scan`` + text parts only) against the email-based one it
replaces for the search index: the same text for every message both can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtui.mime import body_text
from mailtui.mime.search_text import _fast_body_text, _slow_body_text

DATA = Path(__file__).resolve().parents[1] / "data"
VALID = sorted((DATA / "valid").glob("*.eml"))
MALFORMED = sorted((DATA / "malformed").glob("*.eml"))
SAMPLES = [p.read_bytes() for p in VALID]

# What the fast reader hands to email on purpose (see body_text's docstring): lone CRs,
# multiparts without a usable delimiter, an unknown transfer encoding.
FALLBACK = {
    "bare-cr-line-endings.eml",
    "boundary-never-found.eml",
    "garbage-bytes.eml",
    "header-nul-and-escapes.eml",
    "missing-boundary-parameter.eml",
    "unknown-transfer-encoding.eml",
}


@pytest.mark.parametrize("path", VALID + MALFORMED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_reader_gives_the_same_text_as_email(path: Path) -> None:
    raw = path.read_bytes()
    fast = _fast_body_text(raw)
    if path.name in FALLBACK:
        assert fast is None
    else:
        assert fast is not None
        assert fast == _slow_body_text(raw)
    assert body_text(raw) == _slow_body_text(raw)


def mime(ctype: str, cte: str, body: bytes, extra: str = "") -> bytes:
    head = f"Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\n{extra}"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    return head.encode() + b"\r\n" + body


ATTACHMENT = b"A" * 76 + b"\r\n"
CASES = {
    "plain": mime("text/plain; charset=utf-8", "8bit", "café\r\nline 2\r\n".encode()),
    "qp": mime("text/plain; charset=iso-8859-1", "quoted-printable", b"caf=E9 =\r\nsoft\r\n"),
    "base64 unpadded": mime("text/plain", "base64", b"aGVsbG8gd29ybGQ"),
    "base64 junk": mime("text/plain", "base64", b"aGVs*bG8=\r\nd29y bGQ=\r\n"),
    "base64 bad length": mime("text/plain", "base64", b"aGVsbG8gd"),
    "html": mime("text/html", "", b"<html><body><p>Hi <b>there</b></p></body></html>"),
    "flowed": mime("text/plain; format=flowed", "", b"a soft \r\nbreak\r\n"),
    "mixed with attachment": (
        b"Content-Type: multipart/mixed; boundary=b1\r\n\r\npreamble\r\n--b1\r\n"
        b"Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n"
        b"Content-Type: text/plain\r\n\r\nplain text\r\n--b2\r\n"
        b"Content-Type: text/html\r\n\r\n<p>html</p>\r\n--b2--\r\n--b1\r\n"
        b"Content-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\n" + ATTACHMENT * 1000 + b"--b1--\r\nepilogue\r\n"
    ),
    "text attachment not indexed": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nbody\r\n--b\r\n"
        b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n"
        b"\r\nattached\r\n--b--\r\n"
    ),
    "forwarded message": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee below\r\n--b\r\n"
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n"
    ),
    "no closing delimiter": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntruncated"
    ),
    "LF only": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nlf body\n--b--\n",
    "NUL in the charset, 8-bit body": (  # email's get_payload() raised on it
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain; charset=\x00utf-8\r\n\x80not a header\r\n\r\nhi\r\n--b--\r\n"
    ),
    "no header": b"\r\njust a body",
    "empty": b"",
}


@pytest.mark.parametrize("raw", list(CASES.values()), ids=list(CASES))
def test_fast_reader_table(raw: bytes) -> None:
    fast = _fast_body_text(raw)
    assert fast is not None
    assert fast == _slow_body_text(raw)


def test_the_fast_reader_never_decodes_an_attachment() -> None:
    raw = CASES["mixed with attachment"]
    assert body_text(raw) == "plain text"


HANDED_TO_EMAIL = {
    "uuencode": mime("text/plain", "x-uuencode", b"begin 644 x\r\n#86)C\r\n`\r\nend\r\n"),
    "boundary never occurs": b"Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n",
    "only a close delimiter": b"Content-Type: multipart/mixed; boundary=b\n\ntext\n--b--\n",
    "unterminated quote": b'Content-Type: multipart/mixed; boundary="b\n\n--b\n\nx\n--b--\n',
    "lone CR": b"Subject: a\rb\r\n\r\nbody\r\n",
}


@pytest.mark.parametrize("raw", list(HANDED_TO_EMAIL.values()), ids=list(HANDED_TO_EMAIL))
def test_what_the_fast_reader_cannot_match_goes_to_email(raw: bytes) -> None:
    assert _fast_body_text(raw) is None
    assert body_text(raw) == _slow_body_text(raw)


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        if action == "insert":
            raw[pos:pos] = draw(st.binary(max_size=8) | st.sampled_from([b"\r\n", b"--", b"="]))
        elif action == "delete":
            del raw[pos : pos + draw(st.integers(1, 64))]
        elif action == "flip" and pos < len(raw):
            raw[pos] = draw(st.integers(0, 255))
        else:
            del raw[pos:]
    return bytes(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_mangled_messages_read_the_same(raw: bytes) -> None:
    fast = _fast_body_text(raw)
    if fast is not None:
        assert fast == _slow_body_text(raw)


# A lone CR is looked for only where it could make email see other lines than the fast
# reader (header blocks, delimiter lines, the text parts), not in every byte of an
# attachment: body_text on a big message no longer scans it all for one.
MIXED = CASES["mixed with attachment"]
FORWARDED = CASES["forwarded message"]


def changed(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return raw.replace(old, new, 1)


LONE_CR_SAFE = {
    "in the attachment": changed(MIXED, ATTACHMENT * 3, ATTACHMENT + b"AB\rCD\r\n" * 2),
    "in the preamble": changed(MIXED, b"preamble\r\n", b"pre\ramble\r\n"),
    "in the epilogue": changed(MIXED, b"epilogue", b"epi\rlogue"),
}
LONE_CR_HANDED_TO_EMAIL = {
    "before a delimiter": changed(MIXED, ATTACHMENT * 2, ATTACHMENT + b"A\r--b1\r\n"),
    "on a delimiter line": changed(MIXED, b"\n--b2\r\nC", b"\n--b2\rx\r\nC"),
    "in a part's header": changed(MIXED, b"name=x.pdf\r\n", b"name=x.pdf\rX: y\r\n"),
    "in a text part": changed(MIXED, b"plain text", b"plain\rtext"),
    "in an attached message's header": changed(FORWARDED, b"Subject: inner", b"Subject:\rinner"),
    "classic Mac line ends": b"Subject: a\rContent-Type: text/plain\r\rbody\r",
}


@pytest.mark.parametrize("raw", list(LONE_CR_SAFE.values()), ids=list(LONE_CR_SAFE))
def test_a_lone_cr_where_it_changes_nothing_stays_on_the_fast_reader(raw: bytes) -> None:
    assert b"\r" in raw.replace(b"\r\n", b"")
    assert _fast_body_text(raw) == _slow_body_text(raw) == "plain text"


@pytest.mark.parametrize(
    "raw", list(LONE_CR_HANDED_TO_EMAIL.values()), ids=list(LONE_CR_HANDED_TO_EMAIL)
)
def test_a_lone_cr_where_email_could_read_other_lines_goes_to_email(raw: bytes) -> None:
    assert _fast_body_text(raw) is None
    assert body_text(raw) == _slow_body_text(raw)


@st.composite
def with_lone_crs(draw: st.DrawFn) -> bytes:
    """A sample or table message with CRs put in anywhere, most of them lone, some just
    before a delimiter or at a line end where they make an empty line."""
    raw = bytearray(draw(st.sampled_from([*SAMPLES, *CASES.values()])))
    for _ in range(draw(st.integers(1, 4))):
        if raw and draw(st.booleans()):
            lines = [i + 1 for i, c in enumerate(raw) if c == 0x0A]
            pos = draw(st.sampled_from(lines)) if lines else 0
        else:
            pos = draw(st.integers(0, len(raw)))
        raw[pos:pos] = draw(st.sampled_from([b"\r", b"\r\r", b"x\r", b"\r--"]))
    return bytes(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_lone_crs())
def test_lone_crs_anywhere_read_the_same(raw: bytes) -> None:
    fast = _fast_body_text(raw)
    if fast is not None:
        assert fast == _slow_body_text(raw)

"""A message from a script made ready for the outbox (``mailtui.sync.piped``) and the
header-block helpers under it (``mailtui.mime.header_block``): pure functions."""

from __future__ import annotations

import pytest

from mailtui.compose.message import Identity
from mailtui.config import parse
from mailtui.mime import header_block
from mailtui.sync.piped import NotQueued, pick_account, prepare

ME = Identity("me@example.org", "Me")


def test_header_block_reads_and_edits_only_the_header() -> None:
    raw = (b"From: a@x\r\nTo: B <b@x.org>,\r\n \"Doe, C\" <c@y.org>\r\nBcc: d@z\r\n"
           b"Subject: hi\r\n\r\nBcc: not-a-field@body\r\n")  # fmt: skip
    assert header_block.addresses(raw) == ["b@x.org", "c@y.org", "d@z"]
    assert header_block.addresses(raw, ("bcc",)) == ["d@z"]
    stripped = header_block.without_fields(raw, ("bcc",))
    assert b"d@z" not in stripped and stripped.endswith(b"\r\n\r\nBcc: not-a-field@body\r\n")
    assert header_block.field_names(raw) == ["From", "To", "Bcc", "Subject"]
    assert header_block.with_field(b"A: 1\n\nx", "B", "2") == b"B: 2\nA: 1\n\nx"


def test_prepare_with_t_takes_header_recipients_and_drops_bcc() -> None:
    raw = b"To: a@x.org\nCc: b@x.org, A@X.org\nBcc: c@x.org\nSubject: s\n\nbody\n"
    out = prepare(raw, ["d@x.org"], from_headers=True, envelope_from=None, identity=ME)
    assert out.recipients == ("d@x.org", "a@x.org", "b@x.org", "c@x.org")
    assert b"Bcc" not in out.raw and b"\n" not in out.raw.replace(b"\r\n", b"")
    assert out.mail_from == "me@example.org"
    names = header_block.field_names(out.raw)
    assert {"From", "Date", "Message-ID"} <= set(names)
    assert out.message_id and out.message_id in out.raw.decode()


def test_prepare_without_t_keeps_the_header_and_uses_the_arguments() -> None:
    raw = b"From: Other <o@x.org>\r\nTo: list@x.org\r\nMessage-ID: <1@x>\r\nDate: x\r\n\r\nb"
    out = prepare(raw, ["p@x.org"], from_headers=False, envelope_from="bounce@x.org",
                  identity=ME)  # fmt: skip
    assert out.recipients == ("p@x.org",) and out.mail_from == "bounce@x.org"
    assert out.raw == raw and out.message_id == "<1@x>"


def test_prepare_a_body_without_header_and_an_mbox_line() -> None:
    out = prepare(b"just text\n", ["p@x.org"], from_headers=False, envelope_from=None,
                  identity=ME)  # fmt: skip
    assert out.raw.endswith(b"\r\n\r\njust text\r\n")
    patch = b"From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: me@example.org\nTo: a@x\n\nd\n"
    out = prepare(patch, [], from_headers=True, envelope_from=None, identity=ME)
    assert not out.raw.startswith(b"From 1234") and out.recipients == ("a@x",)


@pytest.mark.parametrize(
    ("raw", "recipients", "t", "words"),
    [
        (b"", ["a@x"], False, "empty"),
        (b"To: a@x\n\nb", [], False, "no recipients: give them as arguments"),
        (b"Subject: s\n\nb", [], True, "no recipients: give them in its To, Cc or Bcc"),
        (b"To: a@x\n\nb", ["not an address"], False, "is not an email address"),
    ],
)
def test_prepare_refuses_with_a_reason(
    raw: bytes, recipients: list[str], t: bool, words: str
) -> None:
    with pytest.raises(NotQueued, match=words):
        prepare(raw, recipients, from_headers=t, envelope_from=None, identity=ME)


def test_pick_account_by_name_sender_or_the_only_one() -> None:
    config = parse(
        '[accounts.a]\nkind = "imap"\nemail = "a@x.org"\nhost = "h"\n'
        'identities = ["Al <al@x.org>"]\n'
        '[accounts.b]\nkind = "imap"\nemail = "b@x.org"\nhost = "h"\n'
    )
    assert pick_account(config, "b", b"", None).name == "b"
    assert pick_account(config, None, b"From: AL@x.org\n\n", None).name == "a"
    assert pick_account(config, None, b"From: a@x.org\n\n", "b@x.org").name == "b"
    with pytest.raises(NotQueued, match="say which with --account"):
        pick_account(config, None, b"From: z@x.org\n\n", None)
    one = parse('[accounts.a]\nkind = "imap"\nemail = "a@x.org"\nhost = "h"\n')
    assert pick_account(one, None, b"From: z@x.org\n\n", None).name == "a"

"""build_message: headers, encodings, attachments, Message-ID, Bcc, flowed text."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta, timezone

import pytest

from mailtui import mime
from mailtui.compose import (
    AddressError,
    Attachment,
    Draft,
    DraftError,
    Identity,
    build_message,
    format_address,
    guess_content_type,
    new_message_id,
    parse_addresses,
    to_flowed,
)
from mailtui.models import Address

ANN = Identity("ann@example.org", "Ann Ärger")
BOB = Address("Bob, Jr.", "bob@example.net")
WHEN = datetime(2026, 3, 3, 9, 15, 0, tzinfo=timezone(timedelta(hours=1)))


def parse(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def test_headers_are_ascii_encoded_words_and_round_trip() -> None:
    d = Draft(
        ANN,
        to=(BOB,),
        cc=(Address("Zoë", "zoe@example.com"),),
        subject="Grüße — über alles " + "x" * 80,
        body="Hallo Bob\n",
        in_reply_to="<p@example.net>",
        references=("<r@example.net>", "<p@example.net>"),
        reply_to=(Address("", "list@example.org"),),
    )
    out = build_message(d, now=WHEN)
    head = out.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert b"\n" not in out.raw.replace(b"\r\n", b"")  # CRLF only
    msg = parse(out.raw)
    assert msg["Subject"] == d.subject
    assert msg["From"] == "Ann Ärger <ann@example.org>"
    assert msg["To"] == '"Bob, Jr." <bob@example.net>'
    assert msg["Cc"] == "Zoë <zoe@example.com>"
    assert msg["Reply-To"] == "list@example.org"
    assert msg["Date"] == "Tue, 03 Mar 2026 09:15:00 +0100"
    assert msg["In-Reply-To"] == "<p@example.net>"
    assert msg["References"] == "<r@example.net> <p@example.net>"
    assert msg["Message-ID"] == out.message_id
    assert re.fullmatch(r"<[0-9a-f]+\.[0-9a-f]{16}@example\.org>", out.message_id)
    assert msg.get_content_type() == "text/plain"
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert msg.get_content().replace("\r\n", "\n") == "Hallo Bob\n"
    # Our own parser agrees.
    env = mime.parse_envelope(out.raw)
    assert env.subject == d.subject and env.message_id == out.message_id


def test_bcc_only_in_the_envelope() -> None:
    d = Draft(ANN, to=(BOB,), bcc=(Address("", "secret@example.com"), BOB), subject="s", body="b")
    out = build_message(d)
    assert b"secret" not in out.raw and b"Bcc" not in out.raw
    assert out.recipients == ("bob@example.net", "secret@example.com")
    assert out.mail_from == "ann@example.org"


def test_header_injection_is_neutralised() -> None:
    d = Draft(ANN, to=(BOB,), subject="hi\r\nBcc: evil@example.com", body="x")
    msg = parse(build_message(d).raw)
    assert msg["Bcc"] is None
    assert "evil@example.com" in msg["Subject"]


@pytest.mark.parametrize(
    "draft",
    [
        Draft(ANN, subject="nobody"),
        Draft(ANN, to=(Address("", "not an address"),)),
        Draft(Identity("nobody"), to=(BOB,)),
    ],
)
def test_unusable_drafts_raise_draft_error(draft: Draft) -> None:
    with pytest.raises(DraftError):
        build_message(draft)


def test_keeps_a_given_message_id() -> None:
    d = Draft(ANN, to=(BOB,), message_id="<kept@example.org>")
    assert build_message(d).message_id == "<kept@example.org>"
    assert parse(build_message(d).raw)["Message-ID"] == "<kept@example.org>"


@pytest.mark.parametrize(
    ("addr", "domain"),
    [
        ("ann@example.org", "example.org"),
        ("ann@Example.ORG", "example.org"),
        ("ann@bücher.example", "xn--bcher-kva.example"),
        ("example.net", "example.net"),
        ("", "mailtui.invalid"),
    ],
)
def test_message_id_on_the_senders_domain(addr: str, domain: str) -> None:
    mid = new_message_id(addr)
    assert mid.endswith(f"@{domain}>") and mid.isascii()
    assert new_message_id(addr) != mid


def test_attachments_with_rfc2231_names() -> None:
    d = Draft(
        ANN,
        to=(BOB,),
        body="see attached",
        attachments=(
            Attachment("Übersicht März.pdf", "application/pdf", b"%PDF-1.4 \x00\xff"),
            Attachment("notes.txt", "text/plain", "ünïcode\n".encode()),
            Attachment("weird", "nonsense", b"\x01"),
        ),
    )
    out = build_message(d)
    assert b"filename*=utf-8''%C3%9Cbersicht%20M%C3%A4rz.pdf" in out.raw
    assert out.raw.isascii()
    msg = parse(out.raw)
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("Übersicht März.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
        ("weird", "application/octet-stream"),
    ]
    assert parts[0].get_content() == b"%PDF-1.4 \x00\xff"
    parsed = mime.parse_message(out.raw)
    assert [a.filename for a in parsed.attachments] == ["Übersicht März.pdf", "notes.txt", "weird"]
    assert parsed.text.strip() == "see attached"


@pytest.mark.parametrize(
    ("name", "ctype"),
    [
        ("a.pdf", "application/pdf"),
        ("photo.JPG", "image/jpeg"),
        ("x.tar.gz", "application/gzip"),
        ("noext", "application/octet-stream"),
        ("résumé.txt", "text/plain"),
    ],
)
def test_guess_content_type(name: str, ctype: str) -> None:
    assert guess_content_type(name) == ctype


def test_attachment_from_path(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "Bericht.pdf"
    p.write_bytes(b"%PDF")
    att = Attachment.from_path(p)
    assert (att.filename, att.content_type, att.size) == ("Bericht.pdf", "application/pdf", 4)


def test_international_local_part_needs_smtputf8() -> None:
    d = Draft(ANN, to=(Address("Jörg", "jörg@bücher.example"),), body="x")
    out = build_message(d)
    assert out.needs_smtputf8
    assert "jörg@bücher.example" in out.recipients
    assert "To: Jörg <jörg@bücher.example>\r\n".encode() in out.raw  # RFC 6532 UTF-8


def test_international_domain_only_is_idna_in_the_envelope() -> None:
    d = Draft(ANN, to=(Address("", "info@bücher.example"),), body="x")
    out = build_message(d)
    assert not out.needs_smtputf8
    assert out.recipients == ("info@xn--bcher-kva.example",)
    assert out.raw.split(b"\r\n\r\n")[0].isascii()


FLOWED_CASES = [
    ("short line", "short line"),
    ("trailing spaces   ", "trailing spaces"),
    (" leading space", "  leading space"),
    ("From here", " From here"),
    (">not a quote? it is one", "> not a quote? it is one"),
    ("-- ", "-- "),
    ("word " * 20, ("word " * 15) + "\n" + ("word " * 4) + "word"),
    ("> " + "q " * 45, "> " + "q " * 37 + "\n> " + "q " * 7 + "q"),
    ("x" * 100, "x" * 100),
]


@pytest.mark.parametrize(("text", "expected"), FLOWED_CASES)
def test_to_flowed(text: str, expected: str) -> None:
    assert to_flowed(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("word " * 20, ("word " * 20).rstrip()),
        ("> " + "q " * 45, ("> " + "q " * 45).rstrip()),
        ("a\n\nb\n> c\n>> d e", "a\n\nb\n> c\n>> d e"),
        (" leading", " leading"),
        ("From here", "From here"),
        (">x", "> x"),  # a quote; its canonical form has a space
        ("text\n-- \nsig", "text\n-- \nsig"),
    ],
)
def test_flowed_round_trips_through_our_reader(text: str, expected: str) -> None:
    raw = build_message(Draft(ANN, to=(BOB,), body=text, flowed=True)).raw
    assert b'format="flowed"' in raw
    assert mime.parse_message(raw).text.rstrip("\n") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ann@example.org", [("", "ann@example.org")]),
        (
            "Ann <ann@example.org>, bob@example.net",
            [("Ann", "ann@example.org"), ("", "bob@example.net")],
        ),
        (
            '"Doe, John" <j@example.com>; x@example.com',
            [("Doe, John", "j@example.com"), ("", "x@example.com")],
        ),
        ("  ", []),
        ("a@example.org,", [("", "a@example.org")]),
    ],
)
def test_parse_addresses(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(a.name, a.addr) for a in parse_addresses(text)] == expected


@pytest.mark.parametrize("text", ["bob", "Bob <bob>", "a@b@c", "Ann <ann@example.org> junk@"])
def test_parse_addresses_rejects(text: str) -> None:
    with pytest.raises(AddressError):
        parse_addresses(text)


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        (Address("", "a@x.org"), "a@x.org"),
        (Address("Ann", "a@x.org"), "Ann <a@x.org>"),
        (Address("Doe, John", "j@x.org"), '"Doe, John" <j@x.org>'),
    ],
)
def test_format_address_round_trips(address: Address, shown: str) -> None:
    assert format_address(address) == shown
    assert parse_addresses(shown) == (address,)

"""parse_envelope / parse_message / attachment_bytes / body_text over real-looking and
broken messages (tests/data/valid, tests/data/malformed)."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from typing import Any

import pytest

from mailtui.mime import (
    ParsedMessage,
    attachment_bytes,
    body_text,
    make_preview,
    parse_envelope,
    parse_message,
    strip_tags,
)
from mailtui.mime._decode import read_header_block, unfold
from mailtui.models import Address, Envelope

DATA = Path(__file__).resolve().parents[1] / "data"
VALID = sorted((DATA / "valid").glob("*.eml"))
MALFORMED = sorted((DATA / "malformed").glob("*.eml"))
ALL = VALID + MALFORMED

_ALWAYS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_ALWAYS}]")
UNSAFE_LINE = re.compile(f"[\x00-\x1f{_ALWAYS}]")
MULTILINE_FIELDS = {"text", "html"}


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def strings(obj: Any, multiline: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string inside a result, with whether line breaks are allowed in it."""
    if isinstance(obj, str):
        yield obj, multiline
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from strings(getattr(obj, f.name), f.name in MULTILINE_FIELDS)
    elif isinstance(obj, tuple | list):
        for item in obj:
            yield from strings(item, multiline)


def assert_safe(obj: Any) -> None:
    for s, multiline in strings(obj):
        bad = (UNSAFE_TEXT if multiline else UNSAFE_LINE).search(s)
        assert bad is None, f"unsafe {bad.group()!r} in {s[:120]!r}"


def load(path: Path) -> bytes:
    return path.read_bytes()


# ---------------------------------------------------------------------------------------
# Every file: no exception, nothing unsafe


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_parse_envelope_never_raises_and_is_safe(path: Path) -> None:
    raw = load(path)
    envelope = parse_envelope(raw)
    assert isinstance(envelope, Envelope)
    assert envelope.size == len(raw)
    assert len(envelope.preview) <= 200
    assert "\n" not in envelope.preview
    assert_safe(envelope)


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_parse_message_never_raises_and_is_safe(path: Path) -> None:
    raw = load(path)
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedMessage)
    assert_safe(parsed)
    for attachment in parsed.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not attachment.filename.startswith((".", "-"))
        data = attachment_bytes(raw, attachment.part_index)
        assert len(data) == attachment.size


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_body_text_never_raises_and_is_safe(path: Path) -> None:
    text = body_text(load(path))
    assert not UNSAFE_TEXT.search(text)


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_header_reader_agrees_with_email(path: Path) -> None:
    """The fast header reader splits fields exactly as email.feedparser does."""
    raw = load(path)
    reference = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    if b"\n" not in raw:
        raw = raw.replace(b"\r", b"\n")  # bare CR line ends: parse_envelope does the same
    fields, _ = read_header_block(raw)
    expected = [(name, unfold(str(value))) for name, value in reference.raw_items()]
    assert fields == expected


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_envelope_and_message_agree(path: Path) -> None:
    raw = load(path)
    envelope = parse_envelope(raw)
    parsed = parse_message(raw)
    assert parsed.envelope == envelope
    assert envelope.has_attachments == any(not a.is_inline for a in parsed.attachments)
    # The preview of HTML comes from a quick tag-strip, the reader's text from a layout.
    previews = {make_preview(parsed.text), make_preview(strip_tags(parsed.html))}
    assert envelope.preview in previews
    assert parsed.problems == ()


# ---------------------------------------------------------------------------------------
# Expected values of the valid messages


def addr(name: str, address: str) -> Address:
    return Address(name, address)


ENVELOPES: dict[str, dict[str, Any]] = {
    "plain-ascii.eml": dict(
        subject="Re: Server migration on Saturday",
        from_=(addr("Maria Santos", "maria.santos@example.org"),),
        to=(addr("Tom Becker", "tom@example.com"),),
        cc=(addr("", "ops-team@example.org"),),
        date=1714983295,  # 2024-05-06 08:14:55 UTC
        message_id="<20240506081455.GA1234@example.org>",
        in_reply_to="<CAF3xq1=abc123@mail.example.com>",
        references=("<CAF3xq1=root0@mail.example.com>", "<CAF3xq1=abc123@mail.example.com>"),
        has_attachments=False,
    ),
    "alternative-utf8.eml": dict(
        subject="Einladung: Grüße aus München – Sommerfest",
        from_=(addr("Jürgen Weiß", "juergen.weiss@example.de"),),
        date=1718287331,
        has_attachments=False,
    ),
    "html-only.eml": dict(subject="Your weekly digest", date=1717754400, has_attachments=False),
    "attachment-rfc2231.eml": dict(
        subject="Quarterly report and budget",
        to=(addr("Anna Lindqvist", "anna@example.se"),),
        has_attachments=True,
    ),
    "latin1.eml": dict(
        subject="Récapitulatif de la réunion",
        from_=(addr("François Lefèvre", "francois@example.fr"),),
        to=(addr("Éloïse Martin", "eloise@example.fr"),),
        date=1712059500,
    ),
    "shift-jis.eml": dict(
        subject="打ち合わせの件",
        from_=(addr("山本 花子", "hanako.yamamoto@example.co.jp"),),
        to=(addr("田中 一郎", "tanaka@example.co.jp"),),
    ),
    "koi8-r.eml": dict(
        subject="Отчёт за март",
        from_=(addr("Дмитрий Иванов", "dmitry@example.ru"),),
        date=1712241912,
    ),
    "persian-subject.eml": dict(
        subject="یادآوری جلسه فردا",
        from_=(addr("مریم احمدی", "maryam@example.ir"),),
        to=(addr("علی رضایی", "ali@example.ir"),),
        date=1715401800,  # +0330
    ),
    "persian-newsletter.eml": dict(
        subject="خبرنامه زومیت: POP یا IMAP؟",
        from_=(addr("زومیت", "newsletter@zoomit.example"),),
        date=1734156000,  # +0330
    ),
    "arabic-windows1256.eml": dict(
        subject="تأكيد الحجز", from_=(addr("خالد منصور", "khalid@example.sa"),)
    ),
    "chinese-gb2312.eml": dict(
        subject="本月销售报告",
        # a UTF-8 name whose encoded words split a character in two
        from_=(addr("王小明", "xiaoming.wang@example.cn"),),
    ),
    "forwarded-rfc822.eml": dict(subject="Fwd: Zugangsdaten", has_attachments=True),
    "format-flowed.eml": dict(
        subject="Re: [dev] Release schedule",
        in_reply_to="<sched@example.org>",
        references=("<sched@example.org>",),
    ),
    "related-inline-image.eml": dict(subject="Your logo proofs", has_attachments=False),
    "pgp-signed.eml": dict(has_attachments=True),
    "digest.eml": dict(has_attachments=True),
    "calendar-invite.eml": dict(has_attachments=True),
    "delivery-report.eml": dict(
        from_=(addr("Mail Delivery System", "MAILER-DAEMON@mail.example.com"),),
        has_attachments=True,
    ),
}


def test_every_valid_file_has_expectations() -> None:
    assert {p.name for p in VALID} == set(ENVELOPES)
    assert len(VALID) >= 12 and len(MALFORMED) >= 12


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_envelope_values(name: str) -> None:
    envelope = parse_envelope(load(DATA / "valid" / name))
    for field, expected in ENVELOPES[name].items():
        assert getattr(envelope, field) == expected, field
    assert envelope.date > 0
    assert envelope.message_id.startswith("<")


# (file, substring of the body text, substring of the preview)
BODIES = [
    ("plain-ascii.eml", "Saturday works for us.", "Hi Tom, Saturday works for us."),
    ("alternative-utf8.eml", "Für Getränke ist gesorgt.", "Liebe Kolleginnen und Kollegen,"),
    ("html-only.eml", "* Rust in the kernel [1]", "Weekly digest Three new articles"),
    ("latin1.eml", "À bientôt,\nFrançois", "Bonjour Éloïse,"),
    ("shift-jis.eml", "来週の打ち合わせの件、承知いたしました。", "田中様"),
    ("koi8-r.eml", "Отчёт за март готов", "Привет, Оля!"),
    ("persian-subject.eml", "جلسه فردا ساعت ۱۰ صبح", "سلام علی جان،"),
    ("arabic-windows1256.eml", "تم تأكيد حجز الفندق", "مرحبا سارة،"),
    ("persian-newsletter.eml", "Post Office Protocol یا POP", "خبرنامه هفتگی"),
    ("chinese-gb2312.eml", "附件是本月的销售报告", "李经理："),
    ("forwarded-rfc822.eml", "Hallo Sophie, siehe unten.", "Hallo Sophie"),
    ("related-inline-image.eml", "The logo is shown inline", "Here are the proofs."),
    ("calendar-invite.eml", "When: Fri 14 Jun 2024", "You have been invited"),
    ("delivery-report.eml", "550 5.1.1 User unknown", "This is the mail system"),
]


@pytest.mark.parametrize(("name", "in_text", "preview_start"), BODIES)
def test_body_and_preview(name: str, in_text: str, preview_start: str) -> None:
    raw = load(DATA / "valid" / name)
    assert in_text in parse_message(raw).text
    assert parse_envelope(raw).preview.startswith(preview_start)


def test_quoted_lines_are_left_out_of_the_preview() -> None:
    preview = parse_envelope(load(DATA / "valid" / "plain-ascii.eml")).preview
    assert "Can we do the migration" not in preview
    preview = parse_envelope(load(DATA / "valid" / "format-flowed.eml")).preview
    assert preview.startswith("I agree with the freeze date, but two weeks is tight for the ")


def test_format_flowed_is_unwrapped() -> None:
    text = parse_message(load(DATA / "valid" / "format-flowed.eml")).text
    assert (
        "I agree with the freeze date, but two weeks is tight for the translations. "
        "Could we make it three? The translators asked for more time last cycle as well.\n"
    ) in text
    assert "> I propose we freeze on the 1st and release two weeks" in text
    assert "\n>This line is space-stuffed" in text  # stuffing removed, not a quote
    assert "\n-- \nOlav" in text  # the signature separator is not a flowed line


def test_alternative_prefers_plain_and_keeps_the_html_source() -> None:
    parsed = parse_message(load(DATA / "valid" / "alternative-utf8.eml"))
    assert "<b>herzlich</b>" in parsed.html
    assert "<b>" not in parsed.text
    assert parsed.attachments == ()


def test_html_only_is_rendered_without_script_or_style() -> None:
    parsed = parse_message(load(DATA / "valid" / "html-only.eml"))
    assert "document.location" not in parsed.text
    assert "font-family" not in parsed.text
    assert "Your weekly digest" not in parsed.text  # <title> is not body text
    assert [link.href for link in parsed.links] == [
        "https://news.example.com/a/1",
        "https://news.example.com/a/2",
        "mailto:unsubscribe@news.example.com",
    ]
    assert parsed.links[0].text == "Rust in the kernel"
    assert "javascript" not in " ".join(link.href for link in parsed.links)
    assert "<script>" in parsed.html


def test_rfc2231_and_rfc2047_filenames() -> None:
    raw = load(DATA / "valid" / "attachment-rfc2231.eml")
    parsed = parse_message(raw)
    got = [(a.filename, a.content_type, a.part_index, a.is_inline) for a in parsed.attachments]
    assert got == [
        ("会議資料_2024年第2四半期.pdf", "application/pdf", 2, False),
        (
            "Budget Überblick 2024.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            3,
            False,
        ),
        ("anteckningar för mötet.txt", "text/plain", 4, False),
    ]
    assert attachment_bytes(raw, 2).startswith(b"%PDF-1.4\n")
    assert attachment_bytes(raw, 3) == bytes(range(256)) * 4
    assert attachment_bytes(raw, 4) == "Anteckningar för mötet på måndag.".encode("latin-1")
    assert "Q2 report" in parsed.text


def test_inline_image_of_related_is_inline() -> None:
    raw = load(DATA / "valid" / "related-inline-image.eml")
    (image,) = parse_message(raw).attachments
    assert (image.filename, image.content_type, image.is_inline) == ("logo.png", "image/png", True)
    assert image.content_id == "logo-1@studio-nord.example"
    assert attachment_bytes(raw, image.part_index).startswith(b"\x89PNG")


def test_forwarded_message_is_an_attachment_that_parses_again() -> None:
    raw = load(DATA / "valid" / "forwarded-rfc822.eml")
    (forwarded,) = parse_message(raw).attachments
    assert forwarded.content_type == "message/rfc822"
    assert forwarded.filename == "Zugangsdaten für das Testsystem.eml"
    inner = parse_message(attachment_bytes(raw, forwarded.part_index))
    assert inner.envelope.subject == "Zugangsdaten für das Testsystem"
    assert inner.envelope.from_ == (addr("Lena Fischer", "lena@example.at"),)
    assert "Das Testsystem ist unter https://test.example.at erreichbar." in inner.text


def test_digest_parts_default_to_messages() -> None:
    parsed = parse_message(load(DATA / "valid" / "digest.eml"))
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("Build broken on ARM.eml", "message/rfc822"),
        ("Re_ Build broken on ARM.eml", "message/rfc822"),
    ]


def test_signature_and_calendar_are_listed() -> None:
    signed = parse_message(load(DATA / "valid" / "pgp-signed.eml"))
    assert [a.filename for a in signed.attachments] == ["signature.asc"]
    invite = parse_message(load(DATA / "valid" / "calendar-invite.eml"))
    assert [(a.filename, a.content_type) for a in invite.attachments] == [
        ("attachment-3.ics", "text/calendar")
    ]


def test_headers_are_decoded() -> None:
    headers = dict(parse_message(load(DATA / "valid" / "latin1.eml")).headers)
    assert headers["Subject"] == "Récapitulatif de la réunion"
    assert headers["From"] == "François Lefèvre <francois@example.fr>"


def test_plain_text_links() -> None:
    parsed = parse_message(load(DATA / "valid" / "plain-ascii.eml"))
    assert [link.href for link in parsed.links] == ["https://wiki.example.org/migration"]


# ---------------------------------------------------------------------------------------
# Malformed messages: specific outcomes


def malformed(name: str) -> bytes:
    return load(DATA / "malformed" / name)


def test_empty_message() -> None:
    assert parse_envelope(b"") == Envelope()
    parsed = parse_message(b"")
    assert parsed.text == "" and parsed.attachments == ()


def test_escape_sequences_in_headers_and_body() -> None:
    raw = malformed("subject-osc52-csi.eml")
    envelope = parse_envelope(raw)
    assert envelope.subject.startswith("Invoice due NOW")
    assert "52;" not in envelope.subject
    assert envelope.from_ == (addr("Admin hidden", "admin@example.com"),)
    parsed = parse_message(raw)
    assert "Pay here: https://bank.example" in parsed.text
    assert "evil.example" not in parsed.text
    assert "evil.example" not in " ".join(link.href for link in parsed.links)
    assert [a.filename for a in parsed.attachments] == ["invoicetxt.exe"]
    assert_safe(parsed)


def test_nul_and_controls_in_headers() -> None:
    envelope = parse_envelope(malformed("header-nul-and-escapes.eml"))
    assert envelope.from_ == (addr("Evil Corp", "evil@example.com"),)
    assert envelope.subject.startswith("Totally normal subject with CR")
    assert_safe(envelope)


def test_unknown_charset_falls_back_and_says_so() -> None:
    raw = malformed("bogus-charset.eml")
    envelope = parse_envelope(raw)
    assert envelope.subject == "Grüße aus Bern"  # mixed latin-1 and UTF-8 bytes
    assert envelope.from_ == (addr("Müller", "mueller@example.de"),)
    parsed = parse_message(raw)
    assert parsed.text.startswith("Grüße aus Bern, und schöne Grüße auch.")
    assert any("unknown charset 'x-unknown-42'" in p for p in parsed.problems)


def test_truncated_multipart_keeps_what_arrived() -> None:
    raw = malformed("truncated-multipart.eml")
    parsed = parse_message(raw)
    assert parsed.text.startswith("Here are the photos!")
    (photo,) = parsed.attachments
    assert photo.filename == "IMG_0001.jpg"
    assert attachment_bytes(raw, photo.part_index).startswith(b"\xff\xd8\xff\xe0")
    assert any("no closing boundary" in p for p in parsed.problems)
    assert parse_envelope(raw).has_attachments


def test_invalid_base64_is_reported() -> None:
    parsed = parse_message(malformed("invalid-base64.eml"))
    assert any("base64" in p for p in parsed.problems)
    assert [a.filename for a in parsed.attachments] == ["data.bin"]


def test_dates() -> None:
    assert parse_envelope(malformed("date-yesterday.eml")).date == 0
    assert parse_envelope(malformed("date-out-of-range.eml")).date == 0
    raw = b"Date: Mon, 06 May 2024 10:14:55\r\n\r\n"  # no zone: read as UTC
    assert parse_envelope(raw).date == 1714990495


def test_message_id_without_brackets() -> None:
    assert parse_envelope(malformed("date-yesterday.eml")).message_id == "<not-an-id>"


def test_thousand_addresses() -> None:
    envelope = parse_envelope(malformed("thousand-from-addresses.eml"))
    assert len(envelope.from_) == 1000
    assert envelope.from_[999] == addr("Person 0999", "person0999@example.com")


def test_overlong_header_is_capped() -> None:
    envelope = parse_envelope(malformed("overlong-header-line.eml"))
    assert 0 < len(envelope.subject) <= 2000
    assert envelope.preview == "Body after overlong headers."


def test_missing_separator_and_boundaries() -> None:
    parsed = parse_message(malformed("no-header-body-separator.eml"))
    assert parsed.envelope.subject == "forgot the blank line"
    assert parsed.text.startswith("This line should have been the body.")
    for name in ("missing-boundary-parameter.eml", "boundary-never-found.eml"):
        parsed = parse_message(malformed(name))
        assert parsed.text and parsed.problems
        assert not parsed.envelope.has_attachments


def test_nested_unclosed_multipart() -> None:
    raw = malformed("nested-unclosed.eml")
    parsed = parse_message(raw)
    assert parsed.text == "Inner text part."
    assert [a.filename for a in parsed.attachments] == ["after.pdf"]
    assert parse_envelope(raw).has_attachments


def test_hostile_filenames() -> None:
    parsed = parse_message(malformed("hostile-filenames.eml"))
    names = [a.filename for a in parsed.attachments]
    assert names[:5] == [
        "bashrc",
        "rf --no-preserve-root.pdf",
        "reportfdp.exe",
        "_CON",
        "attachment-6.bin",
    ]
    assert names[5].endswith(".tar.gz") and len(names[5].encode()) <= 150


def test_eight_bit_headers() -> None:
    envelope = parse_envelope(malformed("eight-bit-headers.eml"))
    assert envelope.subject == "Übergabe der Schlüssel"
    assert envelope.from_ == (addr("Jörg Groß", "joerg@example.de"),)


def test_bare_cr_line_ends() -> None:
    raw = malformed("bare-cr-line-endings.eml")
    assert parse_envelope(raw).subject == "classic Mac line endings"
    assert parse_message(raw).text == "Body line one\nBody line two\n"


def test_invalid_encoded_words_stay_readable() -> None:
    envelope = parse_envelope(malformed("invalid-encoded-words.eml"))
    assert envelope.subject.startswith("Hello")
    assert [a.addr for a in envelope.from_] == ["a@example.com", "b@example.com"]


def test_deep_html_falls_back() -> None:
    parsed = parse_message(malformed("deep-html.eml"))
    assert parsed.text == "deep content"


def test_garbage_bytes() -> None:
    parsed = parse_message(malformed("garbage-bytes.eml"))
    assert_safe(parsed)


def test_attachment_bytes_rejects_a_wrong_index() -> None:
    raw = load(DATA / "valid" / "attachment-rfc2231.eml")
    with pytest.raises(IndexError):
        attachment_bytes(raw, 99)
    with pytest.raises(IndexError):
        attachment_bytes(raw, 0)  # the multipart container, not a leaf


# ---------------------------------------------------------------------------------------
# Generated pathological structures


def nested_multiparts(depth: int) -> bytes:
    head = b"From: deep@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    leaf = b"Content-Type: text/plain\r\n\r\ninnermost text\r\n"
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + leaf + closing


def nested_messages(depth: int) -> bytes:
    part = b"Subject: innermost\r\n\r\ninnermost text\r\n"
    for i in range(depth):
        part = b"Subject: level %d\r\nContent-Type: message/rfc822\r\n\r\n" % i + part
    return part


@pytest.mark.parametrize("depth", [10, 100, 1000, 10_000])
def test_deeply_nested_multiparts(depth: int) -> None:
    raw = nested_multiparts(depth)
    start = time.perf_counter()
    envelope = parse_envelope(raw)
    parsed = parse_message(raw)
    text = body_text(raw)
    elapsed = time.perf_counter() - start
    assert envelope.subject == "deep"
    assert_safe(parsed)
    assert elapsed < 10  # generous; it is ~0.1 s, the feed parser alone would take minutes
    if depth <= 10:
        assert parsed.text == "innermost text"
        assert text == "innermost text"
        assert envelope.preview == "innermost text"
    else:
        assert parsed.problems


@pytest.mark.parametrize("depth", [10, 1000, 10_000])
def test_deeply_nested_messages(depth: int) -> None:
    raw = nested_messages(depth)
    parsed = parse_message(raw)
    assert_safe(parsed)
    if depth == 10:
        (inner,) = parsed.attachments
        assert inner.filename == "level 8.eml"
        assert b"innermost text" in attachment_bytes(raw, inner.part_index)


def test_many_parts_are_capped() -> None:
    parts = b"".join(
        b'--b\r\nContent-Type: application/octet-stream; name="f%d.bin"\r\n\r\nx\r\n' % i
        for i in range(5000)
    )
    raw = b'Subject: many\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--"
    parsed = parse_message(raw)
    assert 0 < len(parsed.attachments) <= 1000
    assert any("1000 parts" in p for p in parsed.problems)
    assert parse_envelope(raw).has_attachments


def test_email_parser_output_matches_for_nested_structure() -> None:
    """Sanity check of the generated data: email sees the same innermost part."""
    msg = BytesParser(policy=policy.compat32).parsebytes(nested_multiparts(10))
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    assert [p.get_payload() for p in leaves] == ["innermost text"]


# ---------------------------------------------------------------------------------------
# The fast address reader gives what email.utils.getaddresses gives, or defers to it

ADDRESS_LISTS = [
    "Bob <bob@example.com>",
    "bob@example.com",
    "<bob@example.com>",
    '"Doe, John" <john@example.com>, Jane <jane@example.com>,team@example.org',
    '"Quote \\"inside\\"" <q@example.com>',
    "J. R. R. Tolkien <jrr@example.com>",
    "Bob   Smith\t<bob@example.com> ,  <x@y>",
    "=?utf-8?q?J=C3=BCrgen_Wei=C3=9F?= <j@example.de>",
    '"=?utf-8?q?Doe,_J?=" <d@example.com>',
    "'single' <s@example.com>",
    '"" <empty@example.com>',
    "Bob <>",
    "bob@example.com,",
    # shapes that go to getaddresses
    "bob@example.com (Bob Smith)",
    "undisclosed-recipients:;",
    "Team: a@example.com, b@example.com;",
    "<@route.example:bob@example.com>",
    "bob",
    "bob @ example.com",
    "Bob <bob@example.com",
    "a@b,,c@d",
    'Unterminated "quote <u@example.com>',
    "bob@[192.0.2.1]",
    "",
]


@pytest.mark.parametrize("value", ADDRESS_LISTS)
def test_simple_address_reader_matches_getaddresses(value: str) -> None:
    from email.utils import getaddresses

    from mailtui.mime.headers import _simple_addresses

    fast = _simple_addresses(value)
    if fast is None:
        return
    reference = [(" ".join(n.split()), a) for n, a in getaddresses([value]) if n or a]
    assert [(" ".join(n.split()), a) for n, a in fast if n or a] == reference

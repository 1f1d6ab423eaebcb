"""Replies and forwards: table-driven cases for recipients, identity, subject, quoting."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from wcwidth import wcswidth

from mailtui.compose import (
    Attachment,
    Draft,
    Identity,
    Original,
    attribution,
    build_message,
    choose_identity,
    forward,
    forward_subject,
    quote,
    read_original,
    reopen,
    reply,
    reply_recipients,
    reply_subject,
)
from mailtui.models import Address

DATA = Path(__file__).resolve().parents[1] / "data"

ME = Identity("ann@example.org", "Ann")
ME_HOME = Identity("ann@home.example", "Ann at home")
IDS = (ME, ME_HOME)
BOB = Address("Bob", "bob@example.net")
CAROL = Address("Carol", "carol@example.com")
DAVE = Address("", "dave@example.com")
LIST = Address("", "dev@lists.example.org")


def addrs(*items: Address) -> tuple[str, ...]:
    return tuple(a.addr for a in items)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Plan", "Re: Plan"),
        ("Re: Plan", "Re: Plan"),
        ("RE: re: Plan", "Re: Plan"),
        ("Re: AW: Re[2]: Plan", "Re: Plan"),
        ("Re^3: Plan", "Re: Plan"),
        ("Re(4):Plan", "Re: Plan"),
        ("SV: Antw: Plan", "Re: Plan"),
        ("回复：计划", "Re: 计划"),
        ("Fwd: Plan", "Re: Fwd: Plan"),
        ("[dev] Re: Plan", "Re: [dev] Re: Plan"),
        ("Reply guy", "Re: Reply guy"),  # "Re" without a colon is a word
        ("Rescue: it", "Re: Rescue: it"),
        ("", "Re: "),
        ("  Re:   lots   of  space ", "Re: lots of space"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Plan", "Fwd: Plan"),
        ("Fwd: Plan", "Fwd: Plan"),
        ("FW: Fwd: WG: Plan", "Fwd: Plan"),
        ("Re: Plan", "Fwd: Re: Plan"),
        ("TR: Plan", "Fwd: Plan"),
    ],
)
def test_forward_subject(subject: str, expected: str) -> None:
    assert forward_subject(subject) == expected


# case name, original, reply_all, expected To, expected Cc
RECIPIENT_CASES = [
    ("reply to author", Original(from_=(BOB,), to=(ME.address,)), False, (BOB,), ()),
    (
        "Reply-To wins over From",
        Original(from_=(BOB,), reply_to=(LIST,), to=(ME.address,)),
        False,
        (LIST,),
        (),
    ),
    (
        "reply-all: others in Cc, me removed",
        Original(from_=(BOB,), to=(ME.address, CAROL), cc=(DAVE, Address("", "ANN@EXAMPLE.ORG"))),
        True,
        (BOB,),
        (CAROL, DAVE),
    ),
    (
        "reply-all removes every identity of mine",
        Original(from_=(BOB,), to=(ME_HOME.address,), cc=(ME.address, CAROL)),
        True,
        (BOB,),
        (CAROL,),
    ),
    (
        "reply-all: Reply-To as To, the author not repeated",
        Original(from_=(BOB,), reply_to=(BOB,), to=(ME.address, BOB), cc=(CAROL,)),
        True,
        (BOB,),
        (CAROL,),
    ),
    (
        "reply-all: Mail-Followup-To replaces everything",
        Original(from_=(BOB,), to=(LIST,), cc=(CAROL,), mail_followup_to=(LIST, ME.address)),
        True,
        (LIST,),
        (),
    ),
    (
        "plain reply ignores Mail-Followup-To",
        Original(from_=(BOB,), to=(LIST,), mail_followup_to=(LIST,)),
        False,
        (BOB,),
        (),
    ),
    (
        "reply to my own message goes to its recipients",
        Original(from_=(ME.address,), to=(BOB,), cc=(CAROL,)),
        False,
        (BOB,),
        (),
    ),
    (
        "reply-all to my own message keeps its To and Cc",
        Original(from_=(ME.address,), to=(BOB,), cc=(CAROL, ME_HOME.address)),
        True,
        (BOB,),
        (CAROL,),
    ),
    (
        "a note to self stays addressed to me",
        Original(from_=(ME.address,), to=(ME.address,)),
        True,
        (ME.address,),
        (),
    ),
    (
        "repeated addresses once",
        Original(from_=(BOB,), to=(CAROL, CAROL), cc=(Address("C", "Carol@Example.com"),)),
        True,
        (BOB,),
        (CAROL,),
    ),
]


@pytest.mark.parametrize(
    ("original", "reply_all", "to", "cc"),
    [c[1:] for c in RECIPIENT_CASES],
    ids=[c[0] for c in RECIPIENT_CASES],
)
def test_reply_recipients(
    original: Original,
    reply_all: bool,
    to: tuple[Address, ...],
    cc: tuple[Address, ...],
) -> None:
    got_to, got_cc = reply_recipients(original, IDS, reply_all)
    assert addrs(*got_to) == addrs(*to)
    assert addrs(*got_cc) == addrs(*cc)


IDENTITY_CASES = [
    ("sent to the home address", Original(from_=(BOB,), to=(ME_HOME.address,)), ME_HOME),
    ("Cc counts", Original(from_=(BOB,), to=(LIST,), cc=(ME_HOME.address,)), ME_HOME),
    ("To before Cc", Original(from_=(BOB,), to=(ME.address,), cc=(ME_HOME.address,)), ME),
    (
        "through a list: Delivered-To",
        Original(from_=(BOB,), to=(LIST,), delivered_to=(ME_HOME.address,)),
        ME_HOME,
    ),
    (
        "plus tag",
        Original(from_=(BOB,), to=(Address("", "ann+lists@home.example"),)),
        ME_HOME,
    ),
    ("case-insensitive", Original(from_=(BOB,), to=(Address("", "ANN@HOME.EXAMPLE"),)), ME_HOME),
    (
        "my own message: the identity it came from",
        Original(from_=(ME_HOME.address,), to=(BOB,)),
        ME_HOME,
    ),
    ("nothing matches: the account's address", Original(from_=(BOB,), to=(LIST,)), ME),
]


@pytest.mark.parametrize(
    ("original", "expected"), [c[1:] for c in IDENTITY_CASES], ids=[c[0] for c in IDENTITY_CASES]
)
def test_choose_identity(original: Original, expected: Identity) -> None:
    assert choose_identity(IDS, original) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", "> Hello"),
        ("a\n\nb", "> a\n>\n> b"),
        ("> earlier\nnow", ">> earlier\n> now"),
        ("text\n-- \nBob\nCEO", "> text"),  # the signature is left out
        ("text   \n\n\n", "> text"),
        ("--not a sig", "> --not a sig"),
    ],
)
def test_quote(text: str, expected: str) -> None:
    assert quote(text) == expected


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        (
            Original(
                from_=(Address("Bob Müller", "bob@example.net"),),
                date=datetime(2026, 3, 3, 9, 5, tzinfo=timezone(timedelta(hours=1))),
            ),
            "On Tue, 3 Mar 2026 at 09:05 +0100, Bob Müller <bob@example.net> wrote:",
        ),
        (Original(from_=(Address("", "bob@example.net"),)), "bob@example.net wrote:"),
        (Original(), "someone wrote:"),
    ],
)
def test_attribution(original: Original, expected: str) -> None:
    assert attribution(original) == expected


ORIGINAL = b"""From: =?utf-8?q?Bob_M=C3=BCller?= <bob@example.net>
To: Ann <ann@example.org>, carol@example.com
Cc: dev@lists.example.org
Subject: =?utf-8?q?Re=3A_Gr=C3=BC=C3=9Fe?=
Date: Tue, 3 Mar 2026 09:15:00 +0100
Message-ID: <m3@example.net>
In-Reply-To: <m2@example.org>
References: <m1@example.org>
 <m2@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hi Ann,
the numbers are attached. \xc3\xa9

-- 
Bob
--b
Content-Type: application/pdf; name="r.pdf"
Content-Disposition: attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b--
"""


def test_read_original() -> None:
    o = read_original(ORIGINAL)
    assert o.message_id == "<m3@example.net>"
    assert o.references == ("<m1@example.org>", "<m2@example.org>")
    assert o.subject == "Re: Grüße"
    assert o.from_ == (Address("Bob Müller", "bob@example.net"),)
    assert [(a.filename, a.content_type, a.data) for a in o.attachments] == [
        ("Résumé.pdf", "application/pdf", b"%PDF-1.4\n")
    ]
    assert "the numbers are attached. é" in o.text


RLM = "\u200f"


def test_quote_wraps_long_lines_at_spaces() -> None:
    text = "The quick brown fox jumps over the lazy dog and keeps running far away"
    assert quote(text, width=30).split("\n") == [
        "> The quick brown fox jumps",
        "> over the lazy dog and keeps",
        "> running far away",
    ]
    # Quoted lines keep their quote marks on every piece; a word longer than the line
    # (a link) stays whole; wide letters count two cells.
    assert quote("> " + "word " * 8 + "x" * 40, width=30).split("\n") == [
        ">> word word word word word",
        ">> word word word",
        ">> " + "x" * 40,
    ]
    assert quote("日本語 " * 10, width=30).split("\n") == ["> " + " ".join(["日本語"] * 4)] * 2 + [
        "> 日本語 日本語"
    ]


def test_quote_wraps_a_right_to_left_paragraph_and_keeps_its_direction() -> None:
    text = "پروتکل POP پیام‌ها را از سرور بارگیری می‌کند و سپس آن‌ها را پاک می‌کند"
    # 28 cells to fill after "> "; the zero-width non-joiners take none.
    assert quote(text, width=30).split("\n") == [
        "> پروتکل POP پیام‌ها را از سرور",
        f"> {RLM}بارگیری می‌کند و سپس آن‌ها را",
        f"> {RLM}پاک می‌کند",
    ]


def test_reply_to_a_persian_html_newsletter_has_no_long_lines() -> None:
    raw = (DATA / "valid" / "persian-newsletter.eml").read_bytes()
    body = reply(read_original(raw), IDS).body
    quoted = [line for line in body.split("\n") if line.startswith(">")]
    assert len(quoted) > 4
    assert all(wcswidth(line) <= 72 for line in quoted), quoted
    # The paragraph that starts "... Post Office Protocol" reads from the right on
    # every quoted line: the first holds Persian letters first, the rest a mark.
    start = next(i for i, line in enumerate(quoted) if "قدیمی‌ترین" in line)
    assert quoted[start + 1].startswith("> " + RLM)


def test_reply_draft_threads_and_quotes() -> None:
    d = reply(read_original(ORIGINAL), IDS, reply_all=True)
    assert d.from_ == ME
    assert d.subject == "Re: Grüße"
    assert d.in_reply_to == "<m3@example.net>"
    assert d.references == ("<m1@example.org>", "<m2@example.org>", "<m3@example.net>")
    assert addrs(*d.to) == ("bob@example.net",)
    assert addrs(*d.cc) == ("carol@example.com", "dev@lists.example.org")
    assert d.body.startswith(
        "On Tue, 3 Mar 2026 at 09:15 +0100, Bob Müller <bob@example.net> wrote:\n"
        "> Hi Ann,\n> the numbers are attached. é\n"
    )
    assert "Bob\n" not in d.body  # signature not quoted
    assert d.attachments == ()


@pytest.mark.parametrize(
    ("in_reply_to", "references", "message_id", "expected"),
    [
        ("", (), "<p@x>", ("<p@x>",)),
        ("<g@x>", (), "<p@x>", ("<g@x>", "<p@x>")),  # parent's In-Reply-To stands in
        ("<g@x>", ("<r@x>", "<g@x>"), "<p@x>", ("<r@x>", "<g@x>", "<p@x>")),
        ("", ("<r@x>",), "", ("<r@x>",)),  # no Message-ID on the parent
    ],
)
def test_reply_references(
    in_reply_to: str, references: tuple[str, ...], message_id: str, expected: tuple[str, ...]
) -> None:
    o = Original(
        from_=(BOB,), message_id=message_id, in_reply_to=in_reply_to, references=references
    )
    d = reply(o, IDS)
    assert d.references == expected
    assert d.in_reply_to == message_id


def test_reply_signature_goes_below() -> None:
    d = reply(Original(from_=(BOB,), text="hi"), IDS, signature="Ann\nexample.org")
    assert d.body.endswith("> hi\n\n-- \nAnn\nexample.org\n")


def test_forward_inline_keeps_header_block_and_attachments() -> None:
    d = forward(read_original(ORIGINAL), IDS)
    assert d.subject == "Fwd: Re: Grüße"
    assert d.to == () and d.in_reply_to == ""
    assert "-------- Forwarded Message --------\nSubject: Re: Grüße\n" in d.body
    assert "Date: Tue, 03 Mar 2026 09:15:00 +0100\n" in d.body
    assert "From: Bob Müller <bob@example.net>\n" in d.body
    assert "To: Ann <ann@example.org>, carol@example.com\nCc: dev@lists.example.org\n" in d.body
    assert "the numbers are attached. é" in d.body
    assert [a.filename for a in d.attachments] == ["Résumé.pdf"]


def test_forward_as_attachment_round_trips_the_original() -> None:
    d = forward(read_original(ORIGINAL), IDS, as_attachment=True)
    (att,) = d.attachments
    assert (att.filename, att.content_type) == ("Re Grüße.eml", "message/rfc822")
    out = build_message(dataclasses.replace(d, to=(CAROL,)))
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert [p.get_content_type() for p in parts] == ["message/rfc822"]
    assert parts[0]["Content-Transfer-Encoding"] == "8bit"  # never base64 (RFC 2046)
    inner = out.raw.split(b"Content-Transfer-Encoding: 8bit\r\n\r\n", 1)[1]
    expected = ORIGINAL.replace(b"\n", b"\r\n")
    assert inner.startswith(expected)  # byte for byte, line ends made CRLF


def test_reopen_gives_back_the_draft_with_bcc_from_the_envelope() -> None:
    d = Draft(
        ME_HOME,
        to=(BOB,),
        cc=(CAROL,),
        bcc=(DAVE,),
        subject="Grüße",
        body="Hello\nthere\n",
        attachments=(Attachment("a.pdf", "application/pdf", b"%PDF"),),
        in_reply_to="<p@x>",
        references=("<r@x>", "<p@x>"),
    )
    out = build_message(d)
    back = reopen(out.raw, IDS, out.recipients)
    assert back.from_ == ME_HOME
    assert (back.to, back.cc) == ((BOB,), (CAROL,))
    assert addrs(*back.bcc) == (DAVE.addr,)
    assert (back.subject, back.body.rstrip("\n"), back.message_id) == (
        "Grüße",
        "Hello\nthere",
        out.message_id,
    )
    assert (back.in_reply_to, back.references) == ("<p@x>", ("<r@x>", "<p@x>"))
    assert [(a.filename, a.data) for a in back.attachments] == [("a.pdf", b"%PDF")]

"""Realistic demo mail, generated locally and deterministically (no network, no files).

Threads with proper Message-ID/In-Reply-To/References, HTML and multipart/alternative
mail, attachments (RFC 2231 non-ASCII names), names and subjects in several scripts
(Persian, Russian, Japanese, German, French), mailing-list traffic in sub-folders, and one
hostile message whose subject carries terminal escape sequences (it must show up inert).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mailtui.models import Flag, FolderRole

ME = ("Alex Demo", "alex@demo.mailtui.test")

PEOPLE: tuple[tuple[str, str], ...] = (
    ("Zoë Ångström", "zoe@nordlys.example"),
    ("François Dupont", "francois@laposte.example"),
    ("山田 太郎", "taro.yamada@example.jp"),
    ("Сергей Иванов", "sergey@yandex.example"),
    ("مریم رضایی", "maryam@example.ir"),
    ("Priya Raman", "priya@example.in"),
    ("Jürgen Müller", "juergen@firma.example.de"),
    ("Grace Okafor", "grace@example.ng"),
    ("Lena Kowalski", "lena@example.pl"),
    ("Diego Fernández", "diego@example.es"),
    ("Build Bot", "ci@builds.example.org"),
    ("Hannah Lee", "hannah@example.com"),
)

TOPICS: tuple[str, ...] = (
    "Quarterly planning",
    "Server migration this weekend",
    "Lunch on Friday?",
    "Re-org of the docs folder",
    "Invoice 2026-114",
    "Your flight itinerary",
    "تفاوت پروتکل‌های ایمیل POP3 و IMAP چیست؟",
    "Отчёт за ноябрь",
    "会議の議事録",
    "Besprechung nächste Woche",
    "Café demain matin ?",
    "Release notes for 2.4",
    "Hiring: backend engineer",
    "Conference talk proposal",
    "Backup failed on nas01",
    "Photos from the trip",
)

LINES: tuple[str, ...] = (
    "Thanks for the update, this looks good to me.",
    "Could you take a look before Thursday?",
    "I have attached the latest version.",
    "Let's discuss it in the meeting tomorrow.",
    "The numbers are in the spreadsheet; the second tab has the summary.",
    "با سلام، گزارش این ماه پیوست شده است.",
    "Спасибо, посмотрю сегодня вечером.",
    "よろしくお願いします。",
    "Viele Grüße aus Berlin.",
    "Merci beaucoup pour votre aide.",
    "We should keep the old server running until the DNS change has propagated.",
    "I think the second option is simpler, and simpler is what we can maintain.",
)

LISTS: tuple[tuple[str, str], ...] = (
    ("Lists/python-dev", "python-dev@lists.example.org"),
    ("Lists/textual", "textual@lists.example.org"),
)

FOLDERS: tuple[tuple[str, FolderRole], ...] = (
    ("INBOX", FolderRole.INBOX),
    ("Sent", FolderRole.SENT),
    ("Drafts", FolderRole.DRAFTS),
    ("Archive", FolderRole.ARCHIVE),
    ("Junk", FolderRole.JUNK),
    ("Trash", FolderRole.TRASH),
    ("Lists/python-dev", FolderRole.NONE),
    ("Lists/textual", FolderRole.NONE),
    ("Projects/Atlas", FolderRole.NONE),
)


@dataclass(frozen=True, slots=True)
class DemoMessage:
    folder: str
    raw: bytes
    flags: Flag
    date: int


def _body(rng: random.Random, sender: str, n: int) -> str:
    lines = [f"Hi {ME[0].split()[0]},", ""]
    lines += [rng.choice(LINES) for _ in range(n)]
    lines += ["", "Best,", sender.split()[0]]
    return "\n".join(lines) + "\n"


def _html(text: str) -> str:
    paras = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
    return (
        "<html><head><style>p{margin:0}</style></head><body>"
        f"{paras}<p><a href=\"https://example.org/report\">Open the report</a></p>"
        '<img src="https://tracker.example/pixel.gif" width="1" height="1"></body></html>'
    )


def _message(
    rng: random.Random,
    *,
    sender: tuple[str, str],
    to: tuple[str, str],
    subject: str,
    when: datetime,
    parent: EmailMessage | None,
    kind: int,
    list_addr: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = Address(sender[0], addr_spec=sender[1])
    msg["To"] = Address(to[0], addr_spec=to[1])
    if rng.random() < 0.2:
        cc = rng.choice(PEOPLE)
        msg["Cc"] = Address(cc[0], addr_spec=cc[1])
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(idstring=str(rng.getrandbits(48)), domain="demo.mailtui.test")
    if list_addr:
        msg["List-Id"] = f"<{list_addr.replace('@', '.')}>"
    if parent is not None:
        parent_id = str(parent["Message-ID"])
        refs = str(parent.get("References", "")).split()
        msg["In-Reply-To"] = parent_id
        msg["References"] = " ".join([*refs[-10:], parent_id])
    text = _body(rng, sender[0], rng.randint(1, 6))
    if parent is not None and rng.random() < 0.7:
        quoted = "".join(f"> {line}\n" for line in str(_text_of(parent)).splitlines()[:8])
        text += f"\nOn {parent['Date']}, {parent['From']} wrote:\n{quoted}"
    msg.set_content(text)
    if kind % 3 == 1:
        msg.add_alternative(_html(text), subtype="html")
    if kind % 7 == 2:
        rows = "\n".join(f"{i},{rng.randint(10, 999)}" for i in range(rng.randint(5, 60)))
        msg.add_attachment(
            f"month,total\n{rows}\n", subtype="csv", filename="Übersicht März.csv"
        )
    if kind % 11 == 3:
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(2000, 30000)))
        msg.add_attachment(
            payload, maintype="application", subtype="pdf", filename="گزارش-سالانه.pdf"
        )
    return msg


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def _flags(rng: random.Random, age_days: float, folder: str) -> Flag:
    flags = Flag.NONE
    if folder in ("Sent", "Drafts") or age_days > 3 or rng.random() < 0.4:
        flags |= Flag.SEEN
    if rng.random() < 0.04:
        flags |= Flag.FLAGGED
    if rng.random() < 0.1 and flags & Flag.SEEN:
        flags |= Flag.ANSWERED
    if folder == "Drafts":
        flags |= Flag.DRAFT
    return flags


def generate(count: int, now: float, seed: int = 2026) -> Iterator[DemoMessage]:
    """``count`` messages spread over the two years before ``now``, oldest first."""
    rng = random.Random(seed)
    span = 2 * 365 * 86400
    times = sorted(now - rng.random() * span for _ in range(count))
    threads: list[EmailMessage] = []
    for i, ts in enumerate(times):
        when = datetime.fromtimestamp(ts, UTC).replace(microsecond=0)
        age_days = (now - ts) / 86400
        roll = rng.random()
        list_addr: str | None = None
        parent: EmailMessage | None = None
        if roll < 0.18:
            folder, list_addr = rng.choice(LISTS)
        elif roll < 0.26:
            folder = "Sent"
        elif roll < 0.28:
            folder = "Drafts"
        elif roll < 0.40:
            folder = "Archive"
        elif roll < 0.43:
            folder = "Junk"
        elif roll < 0.46:
            folder = "Trash"
        elif roll < 0.50:
            folder = "Projects/Atlas"
        else:
            folder = "INBOX"
        if threads and rng.random() < 0.35:
            parent = rng.choice(threads[-40:])
            subject = "Re: " + str(parent["Subject"]).removeprefix("Re: ")
        else:
            subject = rng.choice(TOPICS)
            if folder == "Junk":
                subject = rng.choice(("You have WON!!!", "Cheap watches", "Urgent: verify"))
        if folder in ("Sent", "Drafts"):
            sender, to = ME, rng.choice(PEOPLE)
        else:
            sender = rng.choice(PEOPLE)
            to = (list_addr, list_addr) if list_addr else ME
        msg = _message(
            rng,
            sender=sender,
            to=to,
            subject=subject,
            when=when,
            parent=parent,
            kind=i,
            list_addr=list_addr,
        )
        threads.append(msg)
        yield DemoMessage(folder, bytes(msg), _flags(rng, age_days, folder), int(ts))
    yield DemoMessage("INBOX", hostile_message(now), Flag.NONE, int(now) - 120)


def hostile_message(now: float) -> bytes:
    """A message that tries to drive the terminal: every sequence must arrive inert."""
    when = format_datetime(datetime.fromtimestamp(now - 120, UTC).replace(microsecond=0))
    return (
        "From: \x1b[31mMallory\x1b[0m <mallory@evil.example>\r\n"
        f"To: {ME[1]}\r\n"
        "Subject: Security test \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J title\x1b]0;pwned\x07\r\n"
        f"Date: {when}\r\n"
        "Message-ID: <hostile@demo.mailtui.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "This body hides escape sequences: \x1b[8mhidden\x1b[0m \x1b]8;;https://evil.example"
        "\x1b\\link\x1b]8;;\x1b\\ \x9b31m and a C1 CSI.\r\n"
        "mailtui shows this text without letting any of them reach your terminal.\r\n"
    ).encode()


def new_arrival(now: float, n: int) -> bytes:
    """One freshly 'delivered' message while the demo runs."""
    rng = random.Random(n * 7919)
    sender = rng.choice(PEOPLE)
    msg = _message(
        rng,
        sender=sender,
        to=ME,
        subject=rng.choice(TOPICS),
        when=datetime.fromtimestamp(now, UTC).replace(microsecond=0),
        parent=None,
        kind=n,
    )
    return bytes(msg)

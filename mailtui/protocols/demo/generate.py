"""Realistic demo mail, generated locally and deterministically (no network, no files).

Threads with proper Message-ID/In-Reply-To/References, HTML and multipart/alternative
mail, attachments (RFC 2231 non-ASCII names), names and subjects in several scripts
(Persian, Russian, Japanese, German, French), mailing-list traffic in sub-folders, and one
hostile message whose subject carries terminal escape sequences (it must show up inert).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from urllib.parse import quote

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


@dataclass(slots=True)
class _Sent:
    """What a reply needs to know of its parent."""

    message_id: str
    references: list[str]
    subject: str
    date: str
    sender: str
    text: str


def _addr(person: tuple[str, str]) -> str:
    return formataddr(person, charset="utf-8")


def _header_text(value: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(maxlinelen=76)


def _rfc2231(name: str) -> str:
    return f"filename*=utf-8''{quote(name, safe='')}"


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def _message(
    rng: random.Random,
    *,
    sender: tuple[str, str],
    to: tuple[str, str],
    subject: str,
    when: datetime,
    parent: _Sent | None,
    kind: int,
    list_addr: str | None = None,
) -> tuple[bytes, _Sent]:
    """One message as RFC 5322 bytes (assembled directly: the email package's builder
    is about ten times slower, and the demo mailbox is generated on first start)."""
    date = format_datetime(when)
    message_id = f"<{rng.getrandbits(64):016x}.{kind}@demo.mailtui.test>"
    head = [
        f"From: {_addr(sender)}",
        f"To: {_addr(to)}",
    ]
    if rng.random() < 0.2:
        head.append(f"Cc: {_addr(rng.choice(PEOPLE))}")
    head += [f"Subject: {_header_text(subject)}", f"Date: {date}", f"Message-ID: {message_id}"]
    if list_addr:
        head.append(f"List-Id: <{list_addr.replace('@', '.')}>")
    references: list[str] = []
    if parent is not None:
        references = [*parent.references[-10:], parent.message_id]
        head.append(f"In-Reply-To: {parent.message_id}")
        head.append("References: " + "\r\n ".join(references))
    head.append("MIME-Version: 1.0")
    text = _body(rng, sender[0], rng.randint(1, 6))
    if parent is not None and rng.random() < 0.7:
        quoted = "".join(f"> {line}\n" for line in parent.text.splitlines()[:8])
        text += f"\nOn {parent.date}, {parent.sender} wrote:\n{quoted}"
    plain = (
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + text.replace("\n", "\r\n")
    )
    body = plain
    if kind % 3 == 1:
        boundary = f"=_alt_{rng.getrandbits(40):x}"
        html = (
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            "\r\n" + _html(text) + "\r\n"
        )
        body = (
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\n{plain}\r\n--{boundary}\r\n{html}--{boundary}--\r\n"
        )
    attachments: list[str] = []
    if kind % 7 == 2:
        rows = "\n".join(f"{i},{rng.randint(10, 999)}" for i in range(rng.randint(5, 60)))
        attachments.append(
            'Content-Type: text/csv; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n'
            f"Content-Disposition: attachment; {_rfc2231('Übersicht März.csv')}\r\n\r\n"
            + _b64(f"month,total\n{rows}\n".encode())
        )
    if kind % 11 == 3:
        payload = rng.randbytes(rng.randint(2000, 30000))
        attachments.append(
            "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; {_rfc2231('گزارش-سالانه.pdf')}\r\n\r\n"
            + _b64(payload)
        )
    if attachments:
        boundary = f"=_mix_{rng.getrandbits(40):x}"
        parts = [body, *attachments]
        body = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n' + "".join(
            f"--{boundary}\r\n{part}\r\n" for part in parts
        ) + f"--{boundary}--\r\n"
    raw = ("\r\n".join(head) + "\r\n" + body).encode("utf-8")
    sent = _Sent(message_id, references, subject, date, sender[0], text)
    return raw, sent


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
    threads: list[_Sent] = []
    for i, ts in enumerate(times):
        when = datetime.fromtimestamp(ts, UTC).replace(microsecond=0)
        age_days = (now - ts) / 86400
        roll = rng.random()
        list_addr: str | None = None
        parent: _Sent | None = None
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
            subject = "Re: " + parent.subject.removeprefix("Re: ")
        else:
            subject = rng.choice(TOPICS)
            if folder == "Junk":
                subject = rng.choice(("You have WON!!!", "Cheap watches", "Urgent: verify"))
        if folder in ("Sent", "Drafts"):
            sender, to = ME, rng.choice(PEOPLE)
        else:
            sender = rng.choice(PEOPLE)
            to = (list_addr, list_addr) if list_addr else ME
        raw, sent = _message(
            rng,
            sender=sender,
            to=to,
            subject=subject,
            when=when,
            parent=parent,
            kind=i,
            list_addr=list_addr,
        )
        threads.append(sent)
        yield DemoMessage(folder, raw, _flags(rng, age_days, folder), int(ts))
    yield DemoMessage("INBOX", hostile_message(now), Flag.NONE, int(now) - 120)


def hostile_message(now: float) -> bytes:
    """A message that tries to drive the terminal: every sequence must arrive inert."""
    when = format_datetime(datetime.fromtimestamp(now - 120, UTC).replace(microsecond=0))
    return (
        "From: \"\x1b[31mMallory\x1b[0m\" <mallory@evil.example>\r\n"
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
    raw, _ = _message(
        rng,
        sender=sender,
        to=ME,
        subject=rng.choice(TOPICS),
        when=datetime.fromtimestamp(now, UTC).replace(microsecond=0),
        parent=None,
        kind=n,
    )
    return raw

"""Realistic generated mail for the IMAP benchmarks (deterministic, no network).

Sizes and MIME are mixed the way a real mailbox is: short plain notes, HTML newsletters
(multipart/alternative), replies with quoted text, and attachments: about 10 % carry a
small one (20-200 KB), 0.5 % a big one (2-6 MB). 10,000 messages come to about 500 MB.
Dates run from two years ago up to now, one message per ``span / n``.
"""

from __future__ import annotations

import base64
import random
import stat
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

WORDS = (
    "the",
    "project",
    "meeting",
    "budget",
    "server",
    "release",
    "notes",
    "please",
    "review",
    "attached",
    "report",
    "thanks",
    "regards",
    "schedule",
    "tomorrow",
    "update",
    "question",
    "answer",
    "deadline",
    "invoice",
    "travel",
    "draft",
    "final",
    "version",
    "change",
    "request",
    "customer",
    "support",
    "ticket",
    "backup",
    "migration",
    "Zoë",
    "café",
    "naïve",
    "Straße",
    "доклад",
    "会議",
    "پروژه",
)
NAMES = (
    "Zoë Ångström",
    "François Dupont",
    "Priya Raman",
    "Grace Okafor",
    "Build Bot",
    "Hannah Lee",
    "Jürgen Müller",
    "Lena Kowalski",
)


def _text(rng: random.Random, words: int) -> str:
    lines = []
    line: list[str] = []
    for _ in range(words):
        line.append(rng.choice(WORDS))
        if len(line) >= 12:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\r\n".join(lines)


def _b64(data: bytes) -> bytes:
    enc = base64.b64encode(data)
    return b"\r\n".join(enc[i : i + 76] for i in range(0, len(enc), 76))


def message(i: int, n: int, rng: random.Random, now: float, span: float) -> bytes:
    date = now - (n - i) * (span / n)
    sender = rng.choice(NAMES)
    subject = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} #{i}"
    head = (
        f"From: =?utf-8?q?{sender.encode().hex()[:8]}?= <user{i % 50}@example.org>\r\n"
        f"To: Bench User <bench@mailtui.test>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {format_datetime(datetime.fromtimestamp(date, UTC))}\r\n"
        f"Message-ID: <bench-{i}@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
    )
    if i > 1 and rng.random() < 0.3:
        head += f"In-Reply-To: <bench-{rng.randint(1, i - 1)}@example.org>\r\n"
    body = _text(rng, rng.randint(40, 600))
    roll = rng.random()
    if roll < 0.005:
        attach = rng.randbytes(rng.randint(2_000_000, 6_000_000))
    elif roll < 0.105:
        attach = rng.randbytes(rng.randint(20_000, 200_000))
    else:
        attach = b""
    if attach:
        return (
            (
                head
                + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
                + "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n\r\n"
                + body
                + '\r\n--b1\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
                + 'Content-Disposition: attachment; filename="report.pdf"\r\n'
                + "Content-Transfer-Encoding: base64\r\n\r\n"
            ).encode()
            + _b64(attach)
            + b"\r\n--b1--\r\n"
        )
    if roll < 0.4:
        html = "<html><body><p>" + body.replace("\r\n", "</p><p>") + "</p></body></html>"
        return (
            head
            + 'Content-Type: multipart/alternative; boundary="b2"\r\n\r\n'
            + "--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + body
            + "\r\n--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + html
            + "\r\n--b2--\r\n"
        ).encode()
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def messages(n: int, seed: int = 1, span_days: float = 730.0) -> list[bytes]:
    """``n`` messages, oldest first (so UIDs grow with the date, as in a real INBOX)."""
    rng = random.Random(seed)
    now = time.time()
    return [message(i, n, rng, now, span_days * 86400) for i in range(1, n + 1)]


def searchable_tempdir() -> tempfile.TemporaryDirectory[str]:
    """A temp dir (0755) whose parents every user can search: Dovecot's own users must
    reach the mail below it. $TMPDIR when that holds, else /tmp."""
    base = Path(tempfile.gettempdir()).resolve()
    if not all(p.stat().st_mode & stat.S_IXOTH for p in (base, *base.parents)):
        base = Path("/tmp")
    tmp = tempfile.TemporaryDirectory(prefix="mailtui-bench-", dir=base)
    Path(tmp.name).chmod(0o755)
    return tmp

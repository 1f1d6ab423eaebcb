"""A message as IMAP hands it over: remote ids, flags, and envelopes from FETCH data.

Pure functions: the CPU part of a pull (``parse_envelopes`` runs in a thread).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from mailtui import mime
from mailtui.models import Envelope, Flag, NewMessage, RawMessage
from mailtui.models.envelope_values import prepare_new
from mailtui.protocols.imap.framing import fetch_items
from mailtui.protocols.imap.wire import ProtocolError, as_bytes, as_int, as_list, as_str

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

FLAG_NAMES: dict[str, Flag] = {
    "\\SEEN": Flag.SEEN,
    "\\ANSWERED": Flag.ANSWERED,
    "\\FLAGGED": Flag.FLAGGED,
    "\\DELETED": Flag.DELETED,
    "\\DRAFT": Flag.DRAFT,
    "$FORWARDED": Flag.FORWARDED,
    "$JUNK": Flag.JUNK,
}
_WIRE_FLAG: dict[Flag, str] = {
    Flag.SEEN: "\\Seen",
    Flag.ANSWERED: "\\Answered",
    Flag.FLAGGED: "\\Flagged",
    Flag.DELETED: "\\Deleted",
    Flag.DRAFT: "\\Draft",
    Flag.FORWARDED: "$Forwarded",
    Flag.JUNK: "$Junk",
}
#: The header fields an envelope is made of (``mime.header_envelope``), and Content-Type
#: for the attachment guess; the FETCH answer names the section with them.
ENVELOPE_FIELDS = b"DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES CONTENT-TYPE"
_MIXED = re.compile(rb"^content-type:\s*multipart/(mixed|related|report)", re.I | re.M)


def flags_from(items: Iterable[Any]) -> Flag:
    value = Flag.NONE
    for item in items:
        if isinstance(item, str):
            value |= FLAG_NAMES.get(item.upper(), Flag.NONE)
    return value


#: ``flags_from`` of the FLAGS lists seen lately (a mailbox has few distinct ones),
#: by the list as a tuple; bounded, a pure function of the list.
_FLAGS_MEMO: dict[tuple[Any, ...], Flag] = {}


def _flags(items: list[Any]) -> Flag:
    try:
        key = tuple(items)
        found = _FLAGS_MEMO.get(key)
    except TypeError:  # a nested list: unhashable
        return flags_from(items)
    if found is None:
        found = flags_from(items)
        if len(_FLAGS_MEMO) >= 256:
            _FLAGS_MEMO.clear()
        _FLAGS_MEMO[key] = found
    return found


def wire_flags(flags: Flag) -> bytes:
    return ("(" + " ".join(name for bit, name in _WIRE_FLAG.items() if flags & bit) + ")").encode()


def remote_id(uidvalidity: int, uid: int) -> str:
    return f"{uidvalidity}:{uid}"


def split_remote_id(rid: str) -> tuple[int | None, int]:
    """``"5:17"`` → (5, 17); a bare ``"17"`` → (None, 17). ValueError if malformed."""
    validity, sep, uid = rid.partition(":")
    if not sep:
        return None, int(validity)
    return int(validity), int(uid)


_MONTH_NUMBER = {name: i for i, name in enumerate(_MONTHS, start=1)}


def internaldate(text: str) -> int:
    """``" 7-Feb-2026 10:01:02 +0100"`` → Unix time; 0 if malformed. By hand: strptime
    was a quarter of the envelope parsing of a big first sync."""
    try:
        day_month_year, clock, zone = text.split()
        day, month, year = day_month_year.split("-")
        hour, minute, second = clock.split(":")
        sign = -1 if zone[0] == "-" else 1
        if zone[0] not in "+-" or len(zone) != 5:
            return 0
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
        if not (1 <= int(day) <= 31 and int(hour) < 24 and int(minute) < 60 and int(second) < 61):
            return 0
        stamp = calendar.timegm(
            (int(year), _MONTH_NUMBER[month.capitalize()], int(day),
             int(hour), int(minute), int(second), 0, 0, 0)
        )
        return stamp - offset
    except (ValueError, KeyError, IndexError, OverflowError):
        return 0


def envelope_from_header(header: bytes, size: int, date: int | str) -> Envelope:
    """The list row's envelope from the header alone (the body comes later): attachments
    are guessed from the top-level content type; the preview stays empty. ``date`` is
    the arrival time for a header without a Date, or the INTERNALDATE it is read from
    (only then: most headers have a Date)."""
    env = mime.header_envelope(header)
    env.size = size
    if env.date == 0:
        env.date = date if isinstance(date, int) else internaldate(date)
    lower = header.lower()  # a cheap test first: the regex tries every line start
    env.has_attachments = (
        b"/mixed" in lower or b"/related" in lower or b"/report" in lower
    ) and _MIXED.search(header) is not None
    env.preview = ""
    return env


#: What the envelope of one fetched message is made from: (UID, FLAGS items,
#: INTERNALDATE, RFC822.SIZE, header bytes).
EnvelopeJob = tuple[int, Any, str, int, bytes]

#: The key of a FETCH answer the loop left unparsed (``framing``; with its "UID").
RAW_ANSWER = "RAW"

# A whole header FETCH answer as Dovecot and most servers spell it: what ``_fetch_fast``
# reads from its segments (the first line, the literal, ``)``), read from the raw
# response: the literal is the n bytes after the first line, ``)`` and CRLF end it.
_JOB = re.compile(
    rb'\* [0-9]+ FETCH \(UID ([0-9]+) FLAGS \(([^()"{}\[\]\r\n]*)\) INTERNALDATE "([^"\\\r\n]*)"'
    rb" RFC822\.SIZE ([0-9]+) BODY\[HEADER\.FIELDS \([A-Z0-9.\- ]*\)\] \{([0-9]+)\}\r\n"
)


def raw_job(raw: bytes) -> EnvelopeJob | None:
    """The job of a raw header FETCH answer of the common shape, as ``envelope_jobs``
    makes it from the parsed answer; None for another shape."""
    m = _JOB.match(raw)
    if m is None:
        return None
    uid, flags, date, size, length = m.groups()
    start = m.end()
    stop = start + int(length)
    if raw[stop:] != b")\r\n":
        return None
    names: list[str] = []
    if flags:
        for flag in flags.split(b" "):
            if not flag or flag.upper() == b"NIL":
                return None  # two spaces, or NIL (None to the tokenizer)
            names.append(flag.decode("utf-8", "surrogateescape"))
    return (
        int(uid),
        names,
        date.decode("utf-8", "surrogateescape"),
        int(size),
        raw[start:stop],
    )


def envelope_jobs(
    fetched: Sequence[dict[str, Any]],
) -> tuple[list[EnvelopeJob], list[RawMessage | None]]:
    """The parsing work of a batch of FETCH data, and the whole messages in it. An
    answer left raw is parsed here (``framing.fetch_items``: ``ProtocolError`` where
    the read would have raised it)."""
    jobs: list[EnvelopeJob] = []
    raws: list[RawMessage | None] = []
    for data in fetched:
        answer = data.get(RAW_ANSWER)
        if answer is not None:
            job = raw_job(answer)
            if job is not None:
                jobs.append(job)
                raws.append(None)
                continue
            uid = data.get("UID")
            data = fetch_items(answer)
            if data.get("UID") != uid:  # batched by the UID the loop saw first
                raise ProtocolError("a FETCH answer names two UIDs")
        whole = data.get("BODY[]")
        raw = whole if isinstance(whole, bytes | bytearray) else None
        header = header_block(raw) if raw is not None else bytes(as_bytes(header_item(data)))
        jobs.append(
            (
                as_int(data.get("UID")),
                as_list(data.get("FLAGS")),
                as_str(data.get("INTERNALDATE")),
                as_int(data.get("RFC822.SIZE")),
                header,
            )
        )
        raws.append(raw)
    return jobs, raws


def header_item(data: dict[str, Any]) -> Any:
    """The header of a FETCH answer: ``BODY[HEADER.FIELDS (…)]`` as asked, or a whole
    ``BODY[HEADER]``; None without either."""
    for key, value in data.items():
        if key.startswith("BODY[HEADER"):
            return value
    return None


def parse_envelopes(
    uidvalidity: int, jobs: Sequence[EnvelopeJob]
) -> list[tuple[str, Envelope, Flag]]:
    """(remote id, envelope, flags) of each job: the CPU part of a pull."""
    return [
        (
            remote_id(uidvalidity, uid),
            envelope_from_header(header, size, date),
            _flags(flag_items),
        )
        for uid, flag_items, date, size, header in jobs
    ]


def parse_batch(validity: int, fetched: list[dict[str, Any]]) -> list[NewMessage]:
    """A batch's FETCH data as new messages: the whole CPU part, for a thread."""
    jobs, raws = envelope_jobs(fetched)
    return prepare_new(_assemble(parse_envelopes(validity, jobs), raws))  # the store's values


def _assemble(
    parsed: Sequence[tuple[str, Envelope, Flag]], raws: Sequence[RawMessage | None]
) -> list[NewMessage]:
    return [
        NewMessage(remote_id=rid, envelope=env, flags=flags, raw=raw)
        for (rid, env, flags), raw in zip(parsed, raws, strict=True)
    ]


def batch_of(
    chunk: Sequence[int], fetched: Iterable[dict[str, Any]], spill: dict[int, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The FETCH data of the UIDs in ``chunk``: from ``fetched`` (what was read with its
    command, in any order) and from ``spill`` (what came with an earlier command:
    pipelined FETCHes can interleave, connection.py); what ``fetched`` holds for other
    UIDs goes to ``spill`` for the batch it belongs to. Newest first, each UID once;
    with their UIDs, in the same order."""
    wanted = set(chunk)
    mine: dict[int, dict[str, Any]] = {}
    for data in fetched:
        uid = as_int(data.get("UID"))
        if uid in wanted:
            mine[uid] = data
        else:
            spill[uid] = data
    if spill:
        for uid in chunk:
            if uid in spill:
                mine[uid] = spill.pop(uid)
    uids = sorted(mine, reverse=True)
    return [mine[uid] for uid in uids], uids


def header_block(raw: RawMessage) -> bytes:
    """The header of a whole message, up to and with the blank line (all of it if none)."""
    end = raw.find(b"\r\n\r\n")
    if end >= 0:
        end += 4
    else:
        end = raw.find(b"\n\n")
        end = len(raw) if end < 0 else end + 2
    return bytes(memoryview(raw)[:end])


def imap_date(when: float) -> bytes:
    """A SEARCH date (``1-Feb-2026``), independent of the locale."""
    d = datetime.fromtimestamp(when, tz=UTC)
    return f"{d.day}-{_MONTHS[d.month - 1]}-{d.year}".encode()

"""Header fields -> ``Envelope`` fields (subject, addresses, date, ids) and the header
list the reader shows; every string is decoded and sanitized."""

from __future__ import annotations

import datetime
import re
from email.utils import getaddresses, mktime_tz, parsedate_tz

from mailtui.mime._decode import decode_words, fix_surrogates, header_text, unfold
from mailtui.mime.sanitize import clean_line
from mailtui.models import Address, Envelope

MAX_SUBJECT = 2000
MAX_NAME = 500
MAX_ADDR = 500
MAX_ADDRESSES = 1000
MAX_ADDRESS_HEADER = 200_000
MAX_ID = 998
MAX_REFERENCES = 100
MAX_HEADERS = 500
MAX_HEADER_VALUE = 8000

_YEAR_1 = -62135596800
_YEAR_10000 = 253402300800

_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>]{1,998})>")


def _one_line(s: str, limit: int) -> str:
    if s.isascii() and s.isprintable() and "  " not in s:
        return s.strip()[:limit]  # what the line below gives such a string, faster
    return _SPACES.sub(" ", clean_line(s)).strip()[:limit]


def _subject(raw: str | None) -> str:
    return _one_line(header_text(raw[: MAX_SUBJECT * 4]), MAX_SUBJECT) if raw else ""


# The common shapes of an address list, ``Name <a@b>``, ``"Quoted, Name" <a@b>`` and bare
# ``a@b``, read by one regex; anything else (comments, groups, routes, odd quoting) goes to
# ``email.utils.getaddresses``, which gives the same result for these shapes but is ~10x
# slower. A test compares the two.
_SIMPLE_ADDRESS = re.compile(
    r"""\s*(?:(?:"((?:[^"\\\r\n]|\\.)*)"|([^",<>@()\[\]:;\\]*?))\s*<([^<>\s",()\[\]:;\\]*)>"""
    r"""|([^\s<>",()\[\]:;\\]+@[^\s<>",()\[\]:;\\]+))\s*(?:,|\Z)"""
)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _simple_addresses(value: str) -> list[tuple[str, str]] | None:
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while pos < end:
        m = _SIMPLE_ADDRESS.match(value, pos)
        if m is None or m.end() == pos:
            return None
        quoted, plain, angle, bare = m.groups()
        if bare is not None:
            pairs.append(("", bare))
        elif quoted is not None:
            pairs.append((_QUOTED_PAIR.sub(r"\1", quoted), angle))
        else:
            pairs.append((plain.strip(), angle))
        pos = m.end()
    return pairs


#: Address headers read lately, by their raw value: a mailbox repeats them (the user's
#: own address in To, the same senders), and the parse is a third of an envelope's.
#: Bounded in count and length; a pure function of the value, so a hit is what a parse
#: would give (``Address`` is frozen, the tuple shared safely).
_ADDRESS_MEMO: dict[str, tuple[Address, ...]] = {}
_MEMO_ENTRIES = 4096
_MEMO_LENGTH = 400


def _addresses(raw: str | None) -> tuple[Address, ...]:
    if not raw:
        return ()
    if len(raw) > _MEMO_LENGTH:
        return _parse_addresses(raw)
    found = _ADDRESS_MEMO.get(raw)
    if found is None:
        found = _parse_addresses(raw)
        if len(_ADDRESS_MEMO) >= _MEMO_ENTRIES:
            _ADDRESS_MEMO.clear()
        _ADDRESS_MEMO[raw] = found
    return found


def _parse_addresses(raw: str) -> tuple[Address, ...]:
    value = fix_surrogates(unfold(raw[:MAX_ADDRESS_HEADER]))
    pairs = _simple_addresses(value)
    if pairs is None:
        try:
            pairs = getaddresses([value])
        except Exception:  # the address parser on hostile input
            return ()
    out: list[Address] = []
    for name, addr in pairs:
        name = _one_line(decode_words(name), MAX_NAME)
        addr = _one_line(addr, MAX_ADDR)
        if not name and not addr:
            continue
        out.append(Address(name, addr))
        if len(out) >= MAX_ADDRESSES:
            break
    return tuple(out)


# The Date most mailers write, ``Thu, 05 Dec 2024 01:25:49 +0000``: read by one match
# (``parsedate_tz`` is a quarter of an envelope's parse); the same timestamp as below.
_COMMON_DATE = re.compile(
    r"(?:[A-Z][a-z]{2}, )?([0-9]{1,2}) ([A-Z][a-z]{2} [1-9][0-9]{3}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-][0-9]{4})"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _common_date(raw: str) -> int | None:
    m = _COMMON_DATE.fullmatch(raw.strip())
    if m is None:
        return None
    day, month_year, hour, minute, second, zone = m.groups()
    first = _MONTH_STARTS.get(month_year)
    if first is None:
        first = _month_start(month_year)
        if first is None:
            return None
    offset = _ZONES.get(zone)
    if offset is None:
        offset = _zone(zone)
    ts = (first + int(day) - 1) * 86400 + int(hour) * 3600 + int(minute) * 60 + int(second)
    return ts - offset if _YEAR_1 <= ts - offset < _YEAR_10000 else 0


#: Days from 1970-01-01 to the first of a month, by its "Mon yyyy" as written: the
#: arithmetic of ``calendar.timegm`` (which does not check the day either), its
#: ``date.toordinal`` once per month seen; and the seconds of each zone seen, "+hhmm".
#: Bounded, like the address memo.
_MONTH_STARTS: dict[str, int] = {}
_ZONES: dict[str, int] = {}
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def _month_start(month_year: str) -> int | None:
    """Days from the epoch to the first of ``"Dec 2024"`` (a year of four digits,
    1000-9999); None for a month name not in ``_MONTHS``."""
    month, year = month_year.split(" ")
    number = _MONTHS.get(month)
    if number is None:
        return None
    found = datetime.date(int(year), number, 1).toordinal() - _EPOCH_ORDINAL
    if len(_MONTH_STARTS) >= _MEMO_ENTRIES:
        _MONTH_STARTS.clear()
    _MONTH_STARTS[month_year] = found
    return found


def _zone(zone: str) -> int:
    """The seconds east of UTC of ``"+hhmm"`` / ``"-hhmm"`` (up to 99:99, as email)."""
    offset = (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60) * (-1 if zone[0] == "-" else 1)
    if len(_ZONES) >= _MEMO_ENTRIES:
        _ZONES.clear()
    _ZONES[zone] = offset
    return offset


def _date(raw: str | None) -> int:
    if not raw:
        return 0
    common = _common_date(raw) if len(raw) < 64 else None
    if common is not None:
        return common
    try:
        parsed = parsedate_tz(unfold(raw)[:200])
        if parsed is None:
            return 0
        if parsed[9] is None:  # no zone: UTC rather than this machine's local time
            parsed = (*parsed[:9], 0)
        ts = int(mktime_tz(parsed))
    except Exception:  # OverflowError, ValueError... on absurd dates
        return 0
    return ts if _YEAR_1 <= ts < _YEAR_10000 else 0


def _ids(raw: str | None, bare: str = "@") -> list[str]:
    """The <ids> in a header; failing those, the bare tokens containing ``bare``."""
    if not raw:
        return []
    value = fix_surrogates(unfold(raw))
    ids = ["<" + _SPACES.sub("", m.group(1)) + ">" for m in _MSGID.finditer(value)]
    if not ids:  # ids written without brackets
        ids = [f"<{token.strip('<>')}>" for token in value.split() if bare in token]
    return [_one_line(i, MAX_ID) for i in ids]


def _first_id(raw: str | None, bare: str = "@") -> str:
    ids = _ids(raw[:4000] if raw else raw, bare)
    return ids[0] if ids else ""


def _references(raw: str | None) -> tuple[str, ...]:
    ids = _ids(raw)
    if len(ids) > MAX_REFERENCES:  # keep the thread root and the nearest ancestors
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return tuple(ids)


_ENVELOPE_FIELDS = frozenset(
    ("subject", "from", "to", "cc", "date", "message-id", "in-reply-to", "references")
)


def _envelope(fields: list[tuple[str, str]], size: int) -> Envelope:
    wanted: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        if key in _ENVELOPE_FIELDS:
            wanted.setdefault(key, value)  # the first occurrence, as email's get() does
    return Envelope(
        subject=_subject(wanted.get("subject")),
        from_=_addresses(wanted.get("from")),
        to=_addresses(wanted.get("to")),
        cc=_addresses(wanted.get("cc")),
        date=_date(wanted.get("date")),
        message_id=_first_id(wanted.get("message-id"), bare=""),
        in_reply_to=_first_id(wanted.get("in-reply-to")),
        references=_references(wanted.get("references")),
        size=size,
    )


def _headers(fields: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (
            _one_line(name, 200),
            _one_line(header_text(value[: MAX_HEADER_VALUE * 4]), MAX_HEADER_VALUE),
        )
        for name, value in fields[:MAX_HEADERS]
    )

"""Tolerant decoding of the pieces of a message: charsets, RFC 2047 encoded words,
RFC 2231 parameters, raw header blocks.

Internal to ``mailtui.mime``. Nothing here raises on malformed input: a piece that cannot
be decoded as declared falls back (declared charset, then UTF-8, then cp1252, then
latin-1, which cannot fail) and is returned as well as possible.
"""

from __future__ import annotations

import binascii
import codecs
import functools
import re
from urllib.parse import unquote_to_bytes

# Labels that mail uses for a charset whose superset is what senders actually produce
# (the same mapping browsers apply). Keys are lower-case labels as they appear in mail.
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "cn-gb": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "unicode-1-1-utf-7": "utf-7",
    "x-user-defined": "cp1252",
}

# Python codecs that exist but are not charsets a message can legitimately declare:
# decoding with them would interpret escapes or always fail.
_REFUSED_CODECS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "charmap"}
)

MAX_CHARSET_LABEL = 64


@functools.lru_cache(maxsize=512)
def codec_for(label: str | None) -> str | None:
    """Python codec name for a MIME charset label, or None if unknown or refused."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if not name or len(name) > MAX_CHARSET_LABEL:
        return None
    name = _SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _try(data: bytes, codec: str, final: bool) -> str | None:
    try:
        if final:
            return data.decode(codec)
        # A prefix may end inside a multi-byte character: an incremental decoder keeps
        # the incomplete tail back instead of failing on it.
        return codecs.getincrementaldecoder(codec)().decode(data, final=False)
    except Exception:  # UnicodeError, and anything a third-party codec might raise
        return None


def decode_bytes(data: bytes, charset: str | None, *, final: bool = True) -> tuple[str, bool]:
    """Decode ``data`` that claims to be in ``charset``; never raises.

    Returns ``(text, as_declared)``: ``as_declared`` is False when the declared charset
    was unknown or did not fit and a fallback was used. With ``final=False`` the data is
    a prefix of something longer and an incomplete last character is dropped.
    """
    if not data:
        return "", True
    codec = codec_for(charset)
    if codec is not None:
        text = _try(data, codec, final)
        if text is not None:
            return text, True
    elif data.isascii():
        # No (usable) charset label and plain ASCII: nothing to guess.
        return data.decode("ascii"), charset is None or not charset.strip()
    declared_ok = charset is None or not charset.strip()
    if codec != "utf-8":
        text = _try(data, "utf-8", final)
        if text is not None:
            return text, declared_ok
    if codec is not None and codec not in ("ascii", "utf-8", "cp1252"):
        # A known multi-byte charset with a few bad bytes reads better in that charset
        # with replacement characters than as cp1252 mojibake.
        try:
            text = data.decode(codec, errors="replace")
        except Exception:
            text = None
        if text is not None and text.count("\ufffd") <= max(2, len(text) // 100):
            return text, False
    # Mostly UTF-8 with some 8-bit bytes (mixed sources, or plain latin-1/cp1252 text):
    # keep the valid UTF-8 and read each stray byte as cp1252. This cannot fail.
    if final:
        return data.decode("utf-8", _CP1252_BYTES), False
    return codecs.getincrementaldecoder("utf-8")(_CP1252_BYTES).decode(data, final=False), False


_CP1252_BYTES = "mailtui-cp1252-bytes"


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return _bytes_as_cp1252(bad), error.end


def _bytes_as_cp1252(data: bytes) -> str:
    # cp1252 leaves five bytes undefined; latin-1 maps those to C1 controls, which the
    # sanitizer removes later.
    return "".join(_CP1252_TABLE[b] for b in data)


_CP1252_TABLE = [
    chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252")
    for b in range(256)
]


codecs.register_error(_CP1252_BYTES, _cp1252_bytes)


def to_bytes(s: str) -> bytes:
    """The bytes behind a string from the ``email`` parser (surrogate-escaped 8-bit)."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeError:  # a surrogate that is not an escaped byte
        return s.encode("utf-8", "replace")


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def fix_surrogates(s: str, charset: str | None = None) -> str:
    """Re-decode raw 8-bit bytes that the ``email`` parser kept as lone surrogates."""
    if s.isascii() or _ESCAPED_BYTE.search(s) is None:
        return s
    return decode_bytes(to_bytes(s), charset)[0]


# RFC 2047: =?charset[*lang]?B|Q?encoded-text?=
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([bBqQ])\?([^?\s]*)\?=")
_BLANK = re.compile(r"[ \t\r\n]*")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        data = text.encode("ascii")
    except UnicodeError:
        return None
    try:
        if encoding in "bB":
            data = data.rstrip(b"=")
            data += b"=" * (-len(data) % 4)
            decoded = binascii.a2b_base64(data)
            return decoded if decoded or not text else None
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, ValueError):
        return None


def decode_words(s: str) -> str:
    """Decode RFC 2047 encoded words anywhere in ``s``; invalid words stay as written.

    Whitespace between adjacent encoded words is dropped, and adjacent words in the same
    charset are joined as bytes before decoding, so a multi-byte character split across
    two words (a common encoder bug) comes out whole.
    """
    if "=?" not in s:
        return s
    out: list[str] = []
    pending: bytearray | None = None
    pending_charset = ""
    pos = 0
    last_was_word = False

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            out.append(decode_bytes(bytes(pending), pending_charset)[0])
            pending = None

    for m in _ENCODED_WORD.finditer(s):
        gap = s[pos : m.start()]
        data = _word_bytes(m.group(2), m.group(3))
        if data is None:
            flush()
            out.append(gap)
            out.append(m.group(0))
            last_was_word = False
            pos = m.end()
            continue
        charset = m.group(1).split("*", 1)[0].lower()
        joined = last_was_word and _BLANK.fullmatch(gap) is not None
        if joined and pending is not None and charset == pending_charset:
            pending += data
        else:
            flush()
            if not joined:
                out.append(gap)
            pending = bytearray(data)
            pending_charset = charset
        last_was_word = True
        pos = m.end()
    flush()
    out.append(s[pos:])
    return "".join(out)


_FOLD = re.compile(r"\r?\n|\r")


def unfold(value: str) -> str:
    """RFC 5322 unfolding: remove the line breaks of a folded header value."""
    if "\n" in value or "\r" in value:
        value = _FOLD.sub("", value)
    return value


def header_text(value: str, charset: str | None = None) -> str:
    """A header value as text: unfolded, raw 8-bit re-decoded, encoded words decoded."""
    return decode_words(fix_surrogates(unfold(value), charset)).strip()


# Header block reading, following the rules of ``email.feedparser`` so both agree on where
# the header ends: a line that is neither a header field nor a continuation ends it and
# starts the body (a missing blank line); a first line "From " is an mbox envelope.
_HEADER_FIELD = re.compile(r"[\x21-\x39\x3b-\x7e]*:")
_HEADER_END = re.compile(rb"\n\r?\n")


def read_header_block(
    data: bytes, start: int = 0, end: int | None = None
) -> tuple[list[tuple[str, str]], int]:
    """Split ``data[start:end]`` into header fields and the offset where the body starts.

    Fields are ``(name, value)`` with the value unfolded but otherwise raw (8-bit bytes
    as surrogate escapes, encoded words not decoded).
    """
    if end is None:
        end = len(data)
    if data.startswith(b"\n", start) or data.startswith(b"\r\n", start):
        head_end = start  # an empty header: the body follows the blank line
        body_start = min(end, start + (1 if data[start] == 0x0A else 2))
    else:
        m = _HEADER_END.search(data, start, end)
        if m is None:
            head_end = body_start = end
        else:
            head_end, body_start = m.start() + 1, m.end()
    if head_end <= start:
        return [], body_start
    # One character per byte, so character offsets are byte offsets.
    text = data[start:head_end].decode("ascii", "surrogateescape")
    fields = _well_formed_fields(text)
    if fields is not None:
        return fields, body_start
    fields = []
    offset = start
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        bare = line.rstrip("\r")
        if not bare:
            continue
        if "\r" in bare:
            bare = bare.replace("\r", "")  # a lone CR breaks the line for email too
        if bare.startswith("From "):
            continue  # an mbox envelope line (misplaced ones are ignored by email too)
        if bare[0] in " \t":
            if fields:
                name, value = fields[-1]
                fields[-1] = (name, value + bare)
            continue
        hm = _HEADER_FIELD.match(bare)
        if hm is None:
            return fields, line_start  # not a header: the body starts here
        if hm.end() == 1:
            continue  # ":value", a field without a name: email drops it too
        fields.append((bare[: hm.end() - 1], bare[hm.end() :].lstrip(" \t")))
    return fields, body_start


# One field with its continuation lines. Used as a fast path for headers in which every
# line is a "Name: value" line or a continuation; anything else takes the line-by-line
# reader in ``read_header_block``, which returns the same fields for these headers.
_FIELD = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")


def _well_formed_fields(text: str) -> list[tuple[str, str]] | None:
    fields: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    match = _FIELD.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            return None
        name, value = m.groups()
        if "\r" in value or "\n" in value:
            value = _FOLD_OR_CR.sub("", value)
        fields.append((name, value))
        pos = m.end()
    return fields


_FOLD_OR_CR = re.compile(r"[\r\n]")


def get_header(fields: list[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), raw, or None."""
    lname = name.lower()
    for n, v in fields:
        if n.lower() == lname:
            return v
    return None


# Content-Type / Content-Disposition parameters, RFC 2045 syntax with RFC 2231 extensions
# (charset'language'percent-encoded values, numbered continuations). Lenient: unquoted
# values with spaces, unterminated quotes, duplicated parameters (the first one wins).
_PARAM = re.compile(
    r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*(?:"|$)|[^;]*)',
    re.DOTALL,
)
_SECTION = re.compile(r"(.*?)\*(\d{1,3})?(\*)?$")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
MAX_PARAMS = 64


def _unquote(v: str) -> str:
    v = v.strip()
    if v.startswith('"'):
        v = v[1:-1] if len(v) > 1 and v.endswith('"') else v[1:]
        return _QUOTED_PAIR.sub(r"\1", v)
    return v


def parse_params(value: str, fallback_charset: str | None = None) -> tuple[str, dict[str, str]]:
    """Split a structured header into its lower-case main value and decoded parameters."""
    value = unfold(value)
    main, _, rest = value.partition(";")
    main = main.strip().strip('"').lower()
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for count, m in enumerate(_PARAM.finditer(";" + rest)):
        if count >= MAX_PARAMS:
            break
        key = m.group(1).lower()
        raw = _unquote(m.group(2))
        sm = _SECTION.match(key) if "*" in key else None
        if sm is None:
            plain.setdefault(key, raw)
            continue
        base, number, extended = sm.group(1), sm.group(2), sm.group(3)
        if number is None:
            # name*=charset'lang'value: a single extended section
            extended = "*"
        sections.setdefault(base, {}).setdefault(int(number or 0), (raw, bool(extended)))
    params = {k: fix_surrogates(v, fallback_charset) for k, v in plain.items()}
    for base, parts in sections.items():
        params[base] = _join_sections(parts, fallback_charset)  # RFC 2231 wins over plain
    return main, params


def _join_sections(parts: dict[int, tuple[str, bool]], fallback_charset: str | None) -> str:
    charset: str | None = None
    data = bytearray()
    for i, number in enumerate(sorted(parts)):
        raw, extended = parts[number]
        if extended:
            if i == 0 and raw.count("'") >= 2:
                charset, _lang, raw = raw.split("'", 2)
            data += unquote_to_bytes(to_bytes(raw))
        else:
            data += to_bytes(raw)
    return decode_bytes(bytes(data), charset or fallback_charset)[0]

"""A safe name to show and to save an attachment under.

The name a message proposes is hostile input: it may hold path separators or ``..``
(directory traversal), control or bidi characters (``invoice\\u202efdp.exe`` displays
as ``invoiceexe.pdf``), a leading dot (hidden file) or dash (read as an option by a shell
command), characters Windows refuses, a reserved device name, or be absurdly long. The
result of ``safe_filename`` is a single path component free of all of that, at most
``MAX_BYTES`` bytes in UTF-8 with its extension kept, and never empty.
"""

from __future__ import annotations

import re

from mailtui.mime.sanitize import clean_line

__all__ = ["MAX_BYTES", "safe_filename"]

MAX_BYTES = 150

# Extensions for the fallback name; a small table instead of ``mimetypes`` because that
# module reads the system's mime.types files and this package does no I/O.
_EXTENSIONS = {
    "application/gzip": ".gz",
    "application/json": ".json",
    "application/msword": ".doc",
    "application/pdf": ".pdf",
    "application/pgp-encrypted": ".pgp",
    "application/pgp-keys": ".asc",
    "application/pgp-signature": ".asc",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/ics": ".ics",
    "application/zip": ".zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "audio/mpeg": ".mp3",
    "image/gif": ".gif",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/svg+xml": ".svg",
    "image/webp": ".webp",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/html": ".html",
    "text/plain": ".txt",
    "text/x-diff": ".diff",
    "text/x-patch": ".patch",
    "text/rfc822-headers": ".txt",
    "video/mp4": ".mp4",
}

_SEPARATORS = re.compile(r"[/\\]")
_FORBIDDEN = re.compile(r'[<>:"|?*]')  # refused by Windows filesystems
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff]")  # zero-width, LRM/RLM
_EXTENSION = re.compile(r"((?:\.tar)?\.[A-Za-z0-9]{1,10})$", re.IGNORECASE)
_RESERVED = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?", re.IGNORECASE)


def safe_filename(name: str | None, index: int, content_type: str = "") -> str:
    """Return a safe display/save name for an attachment.

    ``name`` is the decoded name from the message (or None), ``index`` the part index
    used in the fallback ``attachment-<index><ext>``, ``content_type`` picks ``<ext>``.
    """
    s = clean_line(name or "")
    s = _SEPARATORS.split(s)[-1]  # only the last path component
    s = _INVISIBLE.sub("", s)
    s = _FORBIDDEN.sub("_", s)
    s = _SPACES.sub(" ", s).strip()
    s = s.lstrip(".- ").rstrip(". ")  # no hidden files, no options, no Windows trailers
    if _RESERVED.fullmatch(s):
        s = "_" + s
    if not s:
        ext = _EXTENSIONS.get(content_type.lower().strip(), ".bin")
        return f"attachment-{index}{ext}"
    return _cap(s)


def _cap(s: str) -> str:
    if len(s.encode("utf-8", "surrogatepass")) <= MAX_BYTES:
        return s
    m = _EXTENSION.search(s)
    ext = m.group(1) if m else ""
    stem = s[: len(s) - len(ext)]
    budget = MAX_BYTES - len(ext.encode("ascii"))
    out = []
    used = 0
    for ch in stem:
        size = len(ch.encode("utf-8", "surrogatepass"))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out).rstrip(". ") + ext

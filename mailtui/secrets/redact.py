"""What the logs never show: every secret ``mailtui.secrets`` handed out in this
process, login arguments on the wire (``AUTHENTICATE``, ``AUTH``, ``LOGIN``, ``PASS``,
``APOP``) and OAuth fields (``Bearer …``, ``access_token=…``, ``code=…``).
``Redactor`` is the filter the command line puts on both log files.
"""

from __future__ import annotations

import logging
import re

#: Every secret this process handed out or stored: the debug log never shows them.
_seen: set[str] = set()
_MIN_REDACTED = 4  # shorter "secrets" would blank out ordinary words


def handed_out(secret: str) -> str:
    if len(secret) >= _MIN_REDACTED:
        _seen.add(secret)
    return secret


_MARK = "<secret>"  # what a secret becomes
#: What a wire trace writes in place of login data.
AUTH_DATA = "<authentication data>"
_REDACT = (  # (pattern, replacement)
    # IMAP/SMTP/POP3 logins: keep the command and the mechanism, drop what follows.
    # Upper case only, as the clients send them: "login refused" in prose stays.
    (
        re.compile(r"\b((?:AUTHENTICATE|AUTH|LOGIN|PASS|APOP)(?: +[A-Z0-9_-]+)?) +\S.*$"),
        r"\1 <redacted>",
    ),
    # OAuth material in headers, URLs, forms and JSON.
    (re.compile(r"\b((?:auth=)?bearer +)\S+", re.I), r"\1<redacted>"),
    (
        re.compile(
            r"\b((?:access_token|refresh_token|id_token|device_code|client_secret|code"
            r"|code_verifier|password|token)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+",
            re.I,
        ),
        r"\1<redacted>",
    ),
)


def redact(text: str) -> str:
    """``text`` without any secret handed out by this module, login arguments or OAuth
    tokens (what the debug log writes)."""
    found = [secret for secret in _seen if secret in text]
    if found:  # one pass, and the marks already there left alone: redacting twice is once
        alternatives = "|".join(re.escape(s) for s in sorted(found, key=len, reverse=True))
        text = _MARK.join(re.sub(alternatives, _MARK, part) for part in text.split(_MARK))
    if text.endswith(AUTH_DATA):  # a wire trace that left the data out already
        return text
    for pattern, replacement in _REDACT:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """A log filter that passes every record through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = redact(record.getMessage())
        record.msg, record.args = text, None
        return True

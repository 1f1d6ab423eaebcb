"""Pure helpers of the exporter: Maildir info suffixes and mboxrd quoting."""

from __future__ import annotations

import re

import pytest

from mailtui.export import maildir_info, mboxrd_quote
from mailtui.models import Flag


@pytest.mark.parametrize(
    ("flags", "info"),
    [
        (Flag.NONE, ":2,"),
        (Flag.SEEN, ":2,S"),
        (Flag.SEEN | Flag.FLAGGED | Flag.ANSWERED, ":2,FRS"),
        (Flag.DRAFT | Flag.DELETED | Flag.FORWARDED, ":2,DPT"),
        (Flag.JUNK, ":2,"),  # no Maildir letter for junk
    ],
)
def test_maildir_info_letters_in_ascii_order(flags: Flag, info: str) -> None:
    assert maildir_info(flags) == info


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        (b"Subject: x\n\nFrom here on\n", b"Subject: x\n\n>From here on\n"),
        (b"a\n>From b\n>>From c\n", b"a\n>>From b\n>>>From c\n"),
        (b"a\r\nFrom b\r\n", b"a\r\n>From b\r\n"),
        (b"not From here\nFromage\n", b"not From here\nFromage\n"),
    ],
)
def test_mboxrd_quoting(raw: bytes, quoted: bytes) -> None:
    assert mboxrd_quote(raw) == quoted
    # mboxrd is reversible: a reader strips one '>' from every '>+From ' line.
    assert re.sub(rb"(?m)^>(>*From )", rb"\1", quoted) == raw

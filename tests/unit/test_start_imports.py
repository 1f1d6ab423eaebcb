"""What the UI's start-up imports: the first paint waits for every module loaded before it
(docs/decisions.md, issue 17, "Start-up before the first paint"), so the compose
screens (with Textual's TextArea), wcwidth, the right-to-left shaping and
``importlib.metadata`` load on first use (memory too: "The TUI's memory during a first
sync"). A new interpreter imports what ``mailtui`` imports before the app runs; the
modules below must not be among them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LATER = (
    "mailtui.ui.screens.compose",
    "mailtui.ui.screens.compose_actions",
    "mailtui.ui.screens.drafts",
    "mailtui.ui.screens.outbox",
    "wcwidth",  # quoting a reply
    "arabic_reshaper",
    "bidi",
    "importlib.metadata",  # ui/compat.py reads Textual's version without it
    "textual.widgets._text_area",  # with the compose screen
)

SCRIPT = """
import sys
import mailtui.__main__, mailtui.cli
from mailtui.app import MailApp  # what cli._cmd_ui imports before the app runs
from mailtui.login import typed_password_accounts
from mailtui.ui.bidi import resolve
from mailtui.compose import Identity  # cli._identities
print(" ".join(sorted(sys.modules)))
"""


def loaded_at_start() -> set[str]:
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(p.stdout.split())


def test_start_up_leaves_composing_and_shaping_for_later() -> None:
    loaded = loaded_at_start()
    assert "mailtui.ui.screens.main" in loaded  # the check sees the UI's modules
    assert [m for m in LATER if m in loaded] == []

"""Modules the app imports only when first used (docs/decisions.md, "The TUI's memory
during a first sync"): a new interpreter importing ``mailtui.app`` as ``mailtui``
does at start has none of them."""

from __future__ import annotations

import subprocess
import sys

LATER = (
    "importlib.metadata",  # ui/compat.py reads Textual's version without it
    "wcwidth",  # compose/reply.py, at the first quoted line
    "mailtui.ui.screens.compose",  # ui/screens/compose_actions.py, at the first compose
    "textual.widgets._text_area",  # with the compose screen
)


def test_the_app_starts_without_the_modules_it_needs_later() -> None:
    code = (
        "import sys, mailtui.cli, mailtui.app; "
        f"print(','.join(m for m in {LATER!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_the_check_sees_an_imported_module() -> None:
    code = "import sys, wcwidth; print('wcwidth' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"

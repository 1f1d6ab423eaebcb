"""The user's own editor for message bodies: ``$VISUAL``, else ``$EDITOR``.

The text goes through a file in a private (0700) temporary directory that is removed
afterwards, so a draft never lingers in a world-readable place. The caller suspends the
UI around ``edit_text`` (the editor owns the terminal meanwhile).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mailtui.errors import MailtuiError


class EditorError(MailtuiError):
    """The editor could not run or failed; ``str()`` says why in plain words."""


def editor_command(env: Mapping[str, str] | None = None) -> list[str] | None:
    """The editor to run, split like a shell would, or None when neither is set."""
    env = os.environ if env is None else env
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError:
                raise EditorError(f"${name} cannot be read: {value!r}") from None
            if words:
                return words
    return None


def edit_text(text: str, command: list[str], *, suffix: str = ".txt") -> str:
    """Runs ``command FILE`` on ``text`` and returns the file's content afterwards.

    Raises EditorError when the editor is missing or exits non-zero; the caller keeps the
    text it had (an editor quit with an error must not wipe the draft).
    """
    with tempfile.TemporaryDirectory(prefix="mailtui-") as tmp:
        os.chmod(tmp, 0o700)
        path = Path(tmp) / f"message{suffix}"
        path.write_text(text, encoding="utf-8")
        try:
            result = subprocess.run([*command, str(path)], check=False)
        except OSError as exc:
            raise EditorError(f"cannot run {command[0]!r}: {exc.strerror}") from None
        if result.returncode != 0:
            raise EditorError(
                f"{command[0]} exited with status {result.returncode}; the text is unchanged"
            )
        return path.read_text(encoding="utf-8", errors="replace")

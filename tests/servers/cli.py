"""The real ``mailtui`` command, run as a child process against the suite's servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_mailtui(
    env: dict[str, str], *args: str, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m mailtui ARGS`` with ``env`` (the caller's data, state and config
    directories), its output captured, no terminal on stdin: ``input`` there, else
    nothing."""
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
    )

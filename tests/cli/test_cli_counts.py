"""Counts the CLI prints read as English: "1 folder", "1 message", "2 folders"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailtui.models import counted

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("n", "noun", "plural", "shown"),
    [
        (0, "folder", None, "0 folders"),
        (1, "folder", None, "1 folder"),
        (2, "folder", None, "2 folders"),
        (12_345, "message", None, "12,345 messages"),
        (1, "reply", "replies", "1 reply"),
        (3, "reply", "replies", "3 replies"),
    ],
)
def test_counted(n: int, noun: str, plural: str | None, shown: str) -> None:
    assert counted(n, noun, plural) == shown


def test_export_of_one_folder_says_one_folder(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mailtui", "--demo", *args], capture_output=True,
            text=True, env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL,
        )

    assert run("sync", "--once").returncode == 0
    p = run("export", "--account", "demo", "--folder", "INBOX", "--mbox",
            str(tmp_path / "inbox.mbox"))
    assert p.returncode == 0, p.stderr
    assert " from 1 folder" in p.stdout and "1 folders" not in p.stdout, p.stdout

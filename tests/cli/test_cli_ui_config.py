"""Typos in ``[ui]`` stop `mailtui` before anything opens: one line naming the file and
the fix, exit code 2 like every config error, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ACCOUNT = '[accounts.work]\nkind = "imap"\nemail = "me@example.com"\nhost = "imap.example.com"\n'


@pytest.mark.parametrize(
    ("ui", "expected"),
    [
        ('[ui]\ntheme = "mailtui-drak"\n',
         "[ui] theme: no theme named 'mailtui-drak'; did you mean 'mailtui-dark'?"),
        ('[ui.keys]\n"triage.flagg" = "j"\n',
         "[ui.keys] unknown binding triage.flagg; did you mean triage.flag?"),
        ('[ui.keys]\n"triage.flag" = "ctrl+dd"\n', 'did you mean "ctrl+d"?'),
        ('[ui.keys]\n"triage.flag" = "j"\n', "j already does list.down (Next message)"),
        ('[ui]\n"triage.flag" = "j"\n', "key bindings go under [ui.keys]"),
        ('[ui]\nthem = "mailtui-dark"\n', "[ui] unknown key 'them'; did you mean \"theme\"?"),
    ],
)
def test_ui_typo_is_one_line_and_exit_2(tmp_path: Path, ui: str, expected: str) -> None:
    (tmp_path / "config.toml").write_text(ACCOUNT + ui)
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
    }
    p = subprocess.run(
        [sys.executable, "-m", "mailtui"], capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=120, stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.toml" in lines[0], lines
    assert expected in lines[0]
    assert not (tmp_path / "data" / "mail.sqlite").exists()  # nothing started

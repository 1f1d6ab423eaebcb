"""The README's first command for real: `bash scripts/try.sh` in a terminal (tmux, 80x24)
makes a new virtualenv, installs mailtui into it with pip and ends in the demo, which
syncs and quits cleanly. (Its apt-get and sudo decisions: tests/unit/test_try_script.py;
this machine has Python's venv already, so none is installed here.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.tmux.test_tmux_demo import Pane, tmux

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]


def test_try_script_installs_and_starts_the_demo(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps.sh")
    session = f"mailtui-try-{uuid.uuid4().hex[:8]}"
    env = {
        "MAILTUI_VENV": str(tmp_path / "venv"),
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        # The Python on PATH, without this test environment's virtualenv in front.
        "PATH": ":".join(
            p for p in os.environ["PATH"].split(":") if not p.startswith(str(ROOT / ".venv"))
        ),
    }
    command = (
        " ".join(["env", *(f"{k}={v}" for k, v in env.items()), "bash", "scripts/try.sh"])
        + "; echo mailtui-exit=$?; sleep 60"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", "-c", str(ROOT)]
        + [command],
        check=True,
        timeout=10,
        env={**os.environ, "TMUX": ""},
    )
    pane = Pane(session)
    try:
        pane.wait_for(lambda s: "in step" in s and "Inbox" in s, timeout=420)
        assert (tmp_path / "venv" / "bin" / "mailtui").exists()
        pane.keys("q")
        screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=20)
        assert "mailtui-exit=0" in screen
        assert "Traceback" not in screen
    finally:
        tmux("kill-session", "-t", session)

"""The real binary's first start (tmux, 80x24): with no account, `mailtui` opens the
setup wizard instead of an empty screen, and the demo is one key (F9) away."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.tmux.test_tmux_demo import Pane, tmux

pytestmark = pytest.mark.tmux

BINARY = Path(sys.executable).parent / "mailtui"


def test_first_start_opens_the_wizard_and_f9_the_demo(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps.sh")
    session = f"mailtui-first-{uuid.uuid4().hex[:8]}"
    env = {
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    command = (
        " ".join(["env", *(f"{k}={v}" for k, v in env.items()), str(BINARY)])
        + "; echo mailtui-exit=$?; sleep 60"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command],
        check=True,
        timeout=10,
        env={**os.environ, "TMUX": ""},
    )
    pane = Pane(session)
    try:
        screen = pane.wait_for(lambda s: "who you are" in s)
        assert "F9: try the demo instead" in screen
        pane.keys("F9")
        pane.wait_for(lambda s: "in step" in s and "Inbox" in s, timeout=60)
        pane.keys("q")
        screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=20)
        assert "mailtui-exit=0" in screen
        assert "Traceback" not in screen
        assert not (tmp_path / "config.toml").exists()  # nothing saved
    finally:
        tmux("kill-session", "-t", session)

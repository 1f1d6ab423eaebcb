"""The README's first command for real: `bash scripts/try.sh` in a terminal (tmux, 80x24)
installs mailtui with pip into a virtualenv of its own and ends in the demo, which syncs
and quits cleanly. (Its apt-get and sudo decisions: tests/unit/test_try_script.py.)

No network in tests: the virtualenv is made here, without pip, and sees this test
environment's packages through a .pth file (pip, setuptools, mailtui's dependencies);
pip runs with no index and no build isolation. So mailtui itself is built and installed
for real and its entry point started, while the dependencies come from here
(tests/unit/test_dependencies.py checks that every one mailtui imports is declared)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
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
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv)})["purelib"])
    (purelib / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {
        "MAILTUI_VENV": str(venv),
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of --no-build-isolation
        "PIP_FIND_LINKS": "",
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
        assert (venv / "bin" / "mailtui").exists()
        assert list(purelib.glob("mailtui-*.dist-info")), "mailtui was installed here"
        pane.keys("q")
        screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=20)
        assert "mailtui-exit=0" in screen
        assert "Traceback" not in screen
    finally:
        tmux("kill-session", "-t", session)

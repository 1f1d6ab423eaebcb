"""The real `mailtui --demo` binary in a real terminal (tmux, 80x24): it paints, syncs,
opens a message, never lets mail-borne escape sequences through, and quits cleanly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

BINARY = Path(sys.executable).parent / "mailtui"


def tmux(*args: str) -> str:
    out = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10)
    return out.stdout


class Pane:
    def __init__(self, session: str) -> None:
        self.session = session

    def text(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, what: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.text()
            if what(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"screen never matched; last screen:\n{screen}")

    def info(self, fmt: str) -> str:
        return tmux("display-message", "-p", "-t", self.session, fmt).strip()


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps.sh")
    assert BINARY.exists(), f"{BINARY} missing: install mailtui into this environment"
    session = f"mailtui-test-{uuid.uuid4().hex[:8]}"
    env = {
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    # The shell reports the exit code on the screen once mailtui has left it.
    command = " ".join(
        ["env", *(f"{k}={v}" for k, v in env.items()), str(BINARY), "--demo"]
    ) + "; echo mailtui-exit=$?; sleep 60"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command],
        check=True,
        timeout=10,
        env={**os.environ, "TMUX": ""},
    )
    try:
        yield Pane(session)
    finally:
        tmux("kill-session", "-t", session)


def test_demo_in_a_real_terminal(pane: Pane) -> None:
    # The status line names the Inbox and its count as soon as the Inbox is opened, a
    # frame or two before the list has read its rows; when the first sync was in step
    # before the Inbox opened, waiting for the status alone caught the empty list.
    screen = pane.wait_for(lambda s: "in step" in s and "Inbox" in s and "Security test" in s)
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    # The hostile demo message is listed, with its escape sequences made inert.
    assert "Security test" in screen
    assert "ZWNobyBwd25lZA" not in screen  # the OSC 52 clipboard payload
    assert "pwned" not in pane.info("#{pane_title}")  # OSC 0 did not retitle the pane

    pane.keys("g")
    pane.keys("Enter")
    screen = pane.wait_for(lambda s: "From" in s and "Subject" in s)
    assert "hidden" in screen or "escape sequences" in screen
    assert "evil.example" not in screen.split("From", 1)[0]  # no link text leaked above
    pane.keys("Escape")
    # Back in the list (its footer offers Open); only then more keys, or the terminal
    # would read Escape + j as Alt+j.
    pane.wait_for(lambda s: "Open" in s and "Close" not in s)

    pane.keys("G")
    # The demo's mail spans the 730 days before it started; its oldest is hours younger
    # than that. Its year is that of 730 or 729 days ago, which is not always this year
    # minus two (on New Year's Eve of a leap year it is this year minus one).
    now = time.time()
    oldest = {f"{time.localtime(now - days * 86400).tm_year}-" for days in (730, 729)}
    pane.wait_for(lambda s: any(year in s for year in oldest))
    pane.keys("q")
    screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=10)
    assert "mailtui-exit=0" in screen
    assert "Traceback" not in screen

"""Triage in the real `mailtui --demo` binary (tmux, 80x24): flag, mark, delete and move
messages by keys, quit, start again, and the changes are still there, in the cache and
on the demo server (``server.sqlite``)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailtui.models import Flag
from tests.tmux.test_tmux_demo import BINARY, Pane, tmux

pytestmark = pytest.mark.tmux


class Demo:
    """Starts the binary in tmux sessions that share one data directory."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sessions: list[str] = []
        self.env = {
            "MAILTUI_DATA_DIR": str(tmp_path / "data"),
            "MAILTUI_STATE_DIR": str(tmp_path / "state"),
            "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }

    @property
    def cache(self) -> Path:
        return self.tmp_path / "data" / "demo" / "mail.sqlite"

    @property
    def server(self) -> Path:
        return self.tmp_path / "data" / "demo" / "server.sqlite"

    def start(self) -> Pane:
        session = f"mailtui-triage-{uuid.uuid4().hex[:8]}"
        command = (
            " ".join(["env", *(f"{k}={v}" for k, v in self.env.items()), str(BINARY), "--demo"])
            + "; echo mailtui-exit=$?; sleep 60"
        )
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command],
            check=True,
            timeout=10,
            env={**os.environ, "TMUX": ""},
        )
        self.sessions.append(session)
        return Pane(session)

    def close(self) -> None:
        for session in self.sessions:
            tmux("kill-session", "-t", session)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps.sh")
    assert BINARY.exists(), f"{BINARY} missing: install mailtui into this environment"
    d = Demo(tmp_path)
    try:
        yield d
    finally:
        d.close()


def query(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """A read-only look at a database the app may have open (WAL: never blocks it)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def wait(what: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.1)


def arrivals_now(demo: Demo) -> int:
    """New mail the demo server delivered so far (it delivers now and then, like a server)."""
    rows = query(demo.server, "SELECT value FROM meta WHERE key = 'arrivals'")
    return int(str(rows[0][0])) if rows else 0


def test_triage_survives_a_restart_and_reaches_the_server(demo: Demo) -> None:
    pane = demo.start()
    pane.wait_for(lambda s: "in step" in s and "Inbox" in s)
    pane.keys("g")
    # The four newest Inbox messages, as the cache has them (the list shows these).
    top = query(
        demo.cache,
        "SELECT m.id, m.subject, m.flags FROM messages m JOIN folders f ON f.id = m.folder_id "
        "WHERE f.name = 'INBOX' ORDER BY m.date DESC, m.id DESC LIMIT 4",
    )
    (flag_id, _, flag_was), (read_id, _, read_was), (trash_id, _, _), (move_id, _, _) = [
        (int(str(r[0])), str(r[1]), int(str(r[2]))) for r in top
    ]

    ((inbox_before,),) = query(demo.cache, "SELECT total FROM folders WHERE name = 'INBOX'")
    inbox_before = int(str(inbox_before))
    arrived_before = arrivals_now(demo)

    def arrivals() -> int:
        return arrivals_now(demo) - arrived_before

    pane.keys("F")  # flag the newest
    pane.wait_for(lambda s: "Flagged 1 message" in s or "Unflagged 1 message" in s)
    pane.keys("j")
    pane.keys("N")  # toggle read on the second
    pane.wait_for(lambda s: "Marked 1 message" in s)
    pane.keys("j")
    pane.keys("d")  # the third to Trash
    pane.wait_for(lambda s: "Moved 1 message to Trash" in s)
    pane.keys("s")  # the fourth (now under the cursor) to Archive, through the picker
    pane.wait_for(lambda s: "Move 1 message to" in s)
    pane.keys("arch")
    pane.keys("Enter")
    pane.wait_for(lambda s: "Moved 1 message to Archive" in s)

    # The worker sends the ops and the server confirms them.
    wait(lambda: not query(demo.cache, "SELECT 1 FROM pending_ops WHERE state != 'done'"))
    pane.keys("q")
    screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=10)
    assert "mailtui-exit=0" in screen and "Traceback" not in screen

    def state() -> dict[int, tuple[str, int, str | None]]:
        rows = query(
            demo.cache,
            "SELECT m.id, f.name, m.flags, m.remote_id FROM messages m "
            "JOIN folders f ON f.id = m.folder_id WHERE m.id IN (?, ?, ?, ?)",
            (flag_id, read_id, trash_id, move_id),
        )
        return {int(str(r[0])): (str(r[1]), int(str(r[2])), r[3] and str(r[3])) for r in rows}

    def check(where: dict[int, tuple[str, int, str | None]]) -> None:
        assert bool(where[flag_id][1] & Flag.FLAGGED) != bool(flag_was & Flag.FLAGGED)
        assert bool(where[read_id][1] & Flag.SEEN) != bool(read_was & Flag.SEEN)
        assert where[trash_id][0] == "Trash"
        assert where[move_id][0] == "Archive"
        for message_id, (folder, flags, remote_id) in where.items():
            # The server holds the same state, under the uid the cache knows.
            assert remote_id is not None, message_id
            server = query(
                demo.server, "SELECT folder, flags FROM messages WHERE uid = ?", (int(remote_id),)
            )
            assert server, f"message {message_id} is not on the server as uid {remote_id}"
            assert server[0][0] == folder
            mask = Flag.FLAGGED | Flag.SEEN
            assert int(str(server[0][1])) & mask == flags & mask

    check(state())

    # Start again: the changes are still there, on screen too.
    pane = demo.start()
    screen = pane.wait_for(lambda s: "in step" in s and "Inbox" in s)
    check(state())
    # The Inbox the list shows is the one without the two moved messages.
    ((inbox_total,),) = query(demo.cache, "SELECT total FROM folders WHERE name = 'INBOX'")
    assert int(str(inbox_total)) <= inbox_before - 2 + arrivals()
    assert f"{int(str(inbox_total)):,}" in screen.splitlines()[-2]
    pane.keys("q")
    screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=10)
    assert "mailtui-exit=0" in screen

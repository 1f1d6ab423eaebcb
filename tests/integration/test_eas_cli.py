"""The real ``mailtui`` binary with an Exchange account on SOGo: ``sync --once`` and
``export``, and a first sync killed with SIGKILL in the middle, then run again: every
message of the server exactly once, each with its body."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.eas_support import message
from tests.servers import EASUser
from tests.servers.cli import ROOT, run_mailtui

pytestmark = pytest.mark.integration


def test_sync_once_then_export_holds_the_servers_messages(
    eas_user: EASUser, tmp_path: Path
) -> None:
    for n in range(5):
        eas_user.append(message(n))
    env = eas_user.cli_home(tmp_path)
    p = run_mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert "+5 messages" in p.stdout, p.stdout
    mbox = tmp_path / "out.mbox"
    p = run_mailtui(env, "export", "--mbox", str(mbox))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported 5 messages"), p.stdout
    text = mbox.read_bytes()
    assert all(f"body of message {n}".encode() in text for n in range(5))

    # Again: nothing new, nothing doubled.
    eas_user.append(message(5))
    p = run_mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(tmp_path / "data" / "mail.sqlite") as db:
        ids = [r[0] for r in db.execute("SELECT message_id FROM messages")]
    assert sorted(ids) == sorted(f"<m{n}@example.org>" for n in range(6))


def test_killed_first_sync_resumes_with_nothing_lost_or_doubled(
    eas_user: EASUser, tmp_path: Path
) -> None:
    count = 300  # a first window of 50 (a screenful), then windows of 100
    for n in range(count):
        eas_user.deliver(message(n))
    env = eas_user.cli_home(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    windows = 0
    for line in proc.stdout:  # the second window committed: kill
        windows += bool(re.search(r": \+\d+ messages \(\d+/", line))
        if windows == 2:
            break
        assert time.monotonic() < deadline, "no second window"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db_path = tmp_path / "data" / "mail.sqlite"
    with sqlite3.connect(db_path) as db:
        cut = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert 0 < cut < count, cut  # killed in the middle, as meant

    again = run_mailtui(env, "sync", "--once")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute(
            "SELECT m.message_id, b.size FROM messages m LEFT JOIN bodies b ON b.message_id = m.id"
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(f"<m{n}@example.org>" for n in range(count))
    assert all(size for _, size in rows)  # every body cached

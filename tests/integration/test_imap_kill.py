"""Nothing lost, nothing doubled: `mailtui sync --once` killed with SIGKILL in the middle
of the one-pass download (whole messages with their envelopes, bodies appended to a pack
before their rows commit), then run again, ends with exactly the server's messages, every
cached body byte for byte the server's, and no tail in a pack that no row names."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mailtui.protocols.imap.pull import FIRST_BATCH, SCREEN
from mailtui.store.packs import HEADER_SIZE, Packs
from tests.servers import MailUser

ROOT = Path(__file__).resolve().parents[2]


def message(i: int) -> bytes:
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - 3600 - i))
    body = f"line {i} of a message long enough to take some time\r\n" * 200
    return (
        f"From: Sender {i} <s{i}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: message {i}\r\nDate: {date}\r\nMessage-ID: <k{i}@example.org>\r\n\r\n{body}"
    ).encode()


def test_killed_mid_download_then_resumed_keeps_exactly_the_servers_mail(
    mail_user: MailUser, tmp_path: Path
) -> None:
    raws = {f"message {i}": message(i) for i in range(5000)}  # ≈ 50 MB, in the body window
    mail_user.deliver_many(list(raws.values()))
    env = mail_user.cli_home(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    # Past the first screens (headers) and into the whole-message batches, then kill.
    screens = {f"({SCREEN}/5000)", f"({SCREEN + FIRST_BATCH}/5000)"}
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        shown = "+" in line and "messages (" in line
        if shown and not any(line.rstrip().endswith(screen) for screen in screens):
            break
        assert time.monotonic() < deadline, "no second batch"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(tmp_path / "data" / "mail.sqlite") as db:
        cut = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert SCREEN + FIRST_BATCH < cut < 5000, cut  # killed in the middle, as meant

    again = subprocess.run(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr

    db_path = tmp_path / "data" / "mail.sqlite"
    packs = Packs(db_path.with_name(db_path.name + "-bodies"))
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pack_rows = db.execute("SELECT id, size, dead FROM packs").fetchall()
        rows = db.execute(
            "SELECT m.subject, m.id, b.size, b.pack, b.pos, b.indexed FROM messages m "
            "LEFT JOIN bodies b ON b.message_id = m.id"
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(raws)  # each once, none missing
    for subject, message_id, size, pack, pos, indexed in rows:
        assert size is not None, f"{subject}: no body"
        got = packs.read(pack, pos, message_id, size)
        assert got == raws[subject], f"{subject}: body differs"
        assert indexed == 1, f"{subject}: not in the search index"
    # The killed run's appended tail was cut off by the run after it: every pack is just
    # the records that rows name.
    assert {pack: size for pack, size, _ in pack_rows} == {
        int(p.stem): p.stat().st_size for p in packs.root.glob("*.pack")
    }
    assert sum(size - dead for _, size, dead in pack_rows) == sum(
        HEADER_SIZE + size for _, _, size, *_ in rows
    )

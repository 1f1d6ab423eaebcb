"""``mailtui export`` against the real Dovecot: with one account no ``--account`` is
needed, a body never cached is missing from the export (and the summary says how many),
and ``--fetch`` downloads it first, the way the sync worker does."""

from __future__ import annotations

import mailbox
import os
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.servers import MailUser
from tests.servers.cli import run_mailtui as mailtui
from tests.servers.ports import free_ports


def old_message(i: int, days_ago: int = 400) -> bytes:
    date = time.strftime(
        "%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - days_ago * 86400)
    )
    return (
        f"From: Sender {i} <s{i}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: old message {i}\r\nDate: {date}\r\n"
        f"Message-ID: <old{i}@example.org>\r\n\r\nthe body of old message {i}\r\n"
    ).encode()



def test_export_fetch_downloads_bodies_never_cached(
    mail_user: MailUser, tmp_path: Path
) -> None:
    raws = [old_message(i) for i in range(3)]
    long_ago = datetime.now(UTC) - timedelta(days=400)
    mail_user.deliver_many(raws, internaldate=long_ago)
    env = mail_user.cli_home(tmp_path)
    config = Path(env["MAILTUI_CONFIG"])
    config.write_text(config.read_text() + "body_days = 0\n")  # headers only, no bodies
    p = mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr

    # One account: no --account needed. Without --fetch the export says what is missing.
    before = tmp_path / "before.mbox"
    p = mailtui(env, "export", "--mbox", str(before))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported 0 messages"), p.stdout
    assert "3 messages are not in it" in p.stdout and "--fetch" in p.stdout
    assert len(mailbox.mbox(before)) == 0

    # The server cannot be reached: the export still has what is cached, and says so.
    (closed,) = free_ports(1)
    good = config.read_text()
    config.write_text(good.replace(f"port = {mail_user.imaps_port}", f"port = {closed}"))
    offline = tmp_path / "offline.mbox"
    p = mailtui(env, "export", "--fetch", "--mbox", str(offline))
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "mailtui: work: could not download the missing bodies: offline since" in p.stderr
    assert "3 bodies could not be downloaded" in p.stdout
    assert len(mailbox.mbox(offline)) == 0
    config.write_text(good)

    target = tmp_path / "export"
    p = mailtui(env, "export", "--fetch", "--maildir", str(target))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported 3 messages"), p.stdout
    assert "not in it" not in p.stdout and "could not" not in p.stdout + p.stderr
    files = list((target / "INBOX" / "cur").iterdir())
    assert sorted(f.read_bytes() for f in files) == sorted(raws)
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    for d in (target, target / "INBOX", target / "INBOX" / "cur"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert os.listdir(target / "INBOX" / "tmp") == []

"""Deleting after download, the DELE comes only once the messages are on the disk: the
real ``mailtui sync --once`` against the real Dovecot POP3 server, run under ``strace``
(its system calls, every thread), so a power cut at any point after a DELE left the
process could not lose a message whose server copy then goes at QUIT.

Checked in the trace, before the first write that carries a ``DELE``: every write to the
store's write-ahead log has been followed by a completed ``fsync``/``fdatasync`` of it,
and every write to a body pack by a completed sync of that pack. (A SIGKILL cannot show
this: the page cache survives it. test_pop3_kill.py covers the kills.)
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.test_pop3_kill import Pop3Account, message
from tests.servers import MailUser
from tests.servers.cli import ROOT
from tests.servers.pop3_tap import Pop3Tap

SYNCS = {"fsync", "fdatasync"}
WRITES = {"write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg"}
_CALL = re.compile(r"^(\d+)\s+(\w+)\((\d+)<([^>]*)>(.*)$")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. (\w+) resumed>(.*)$")


@dataclass
class Call:
    name: str
    path: str  # what the fd names (strace -y): a file, or "socket:[inode]"
    args: str
    started: int  # line number of its start, and of its end (the same when not split)
    ended: int = -1


def calls(trace: str) -> list[Call]:
    """The traced calls, each with where it started and where it ended in the trace."""
    out: list[Call] = []
    pending: dict[tuple[str, str], Call] = {}
    for i, line in enumerate(trace.splitlines()):
        if m := _CALL.match(line):
            pid, name, _, path, rest = m.groups()
            call = Call(name, path, rest, i)
            out.append(call)
            if rest.endswith("<unfinished ...>"):
                pending[(pid, name)] = call
            else:
                call.ended = i
        elif m := _RESUMED.match(line):
            pid, name, rest = m.groups()
            if (pid, name) in pending:
                call = pending.pop((pid, name))
                call.ended = i
                call.args += rest
    return out


@pytest.fixture
def account(mail_user: MailUser, tmp_path: Path) -> Iterator[Pop3Account]:
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        yield Pop3Account(mail_user, tap, tmp_path, log_start=mail_user.dovecot.log_size())


def test_dele_only_once_the_downloaded_messages_are_on_the_disk(
    account: Pop3Account, tmp_path: Path
) -> None:
    strace = shutil.which("strace")
    assert strace, "strace is not installed: run scripts/install-test-deps.sh"
    rng = random.Random(3)
    raws = [message(i, rng) for i in range(40)]
    account.user.deliver_many(raws)
    account.configure(leave_on_server=False)
    account.tap.arm(None)
    log = tmp_path / "strace.log"
    proc = subprocess.Popen(
        [
            strace, "-f", "-y", "-s", "32", "-o", str(log),
            "-e", "trace=" + ",".join(sorted(SYNCS | WRITES)),
            sys.executable, "-m", "mailtui", "sync", "--once",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=account.env,
        cwd=ROOT,
    )  # fmt: skip
    account.tap.attach(proc.pid)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert len(account.tap.deleted) == len(raws)
    assert account.on_server() == []

    traced = calls(log.read_text(errors="replace"))
    dele = next(
        (
            c
            for c in traced
            if c.name in WRITES and c.path.startswith(("socket:", "TCP")) and "DELE " in c.args
        ),
        None,
    )
    assert dele is not None, "no DELE written in the trace"
    before = [c for c in traced if c.started < dele.started]

    def synced_after_last_write(files: set[str]) -> dict[str, bool]:
        result = {}
        for path in files:
            last = max(c.started for c in before if c.name in WRITES and c.path == path)
            result[path] = any(
                c.name in SYNCS and c.path == path and c.started > last and c.ended > -1
                for c in before
                if c.ended < dele.started
            )
        return result

    wal = {c.path for c in before if c.name in WRITES and c.path.endswith("mail.sqlite-wal")}
    packs = {c.path for c in before if c.name in WRITES and c.path.endswith(".pack")}
    assert wal, "no write to the store's log before the DELE"
    assert packs, "no body written to a pack before the DELE"
    assert all(synced_after_last_write(wal).values()), "the log was not synced before DELE"
    unsynced = [p for p, ok in synced_after_last_write(packs).items() if not ok]
    assert not unsynced, f"packs not synced before DELE: {unsynced}"

"""Nothing lost, nothing twice: ``mailtui sync --once`` of a POP3 account, SIGKILLed at
seeded random points of its conversation with the real Dovecot POP3 server, then run to
completion.

The client talks to Dovecot through the harness's tap (tests/servers/pop3_tap.py), which
kills it at one of its first commands, at its N-th TOP, RETR or DELE, at the QUIT after
its downloads (that command never reaching the server), or after exactly B bytes of the
server's answers: points counted in the conversation, so a failing seed
names the same point again (``-k 'seed7'``); where the client then stands in its own work
still varies with timing, which is what a kill at a random point means.

With delete-after-download (``leave_on_server = false``), after every kill:
- every original message is still on the server or in the store (nothing lost), and
  nothing else is in either; the store holds none twice;
- every message the client sent DELE for (the one it was killed at included) is in the
  store: deletion only after the local commit;
and after the run to completion the server is empty and the store holds the original
set, each message exactly once, byte for byte (compared by content).

With ``leave_on_server = true``: no run downloads (RETR) a message the store already
held before it started, and the end state is the original set once in the store and
untouched on the server.

The store is read with ``mailtui export --maildir`` (the real binary, as a user would).
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import MailUser
from tests.servers.cli import ROOT, run_mailtui
from tests.servers.pop3_tap import KillAt, Pop3Tap, sessions_ended

DELETE_SEEDS = range(20)
KEEP_SEEDS = range(4)
WORDS = ("pop", "three", "kill", "mailbox", "dot", "line", "commit", "quit", "Zoë", "café")


def message(i: int, rng: random.Random) -> bytes:
    """A small, unique message; some with lines a POP3 server must dot-stuff."""
    lines = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        for _ in range(rng.choice((2, 10, 40, 120)))
    ]
    if rng.random() < 0.2:
        lines[rng.randrange(len(lines))] = "."
        lines.insert(rng.randrange(len(lines)), "..dotted")
    body = "\r\n".join(lines) + "\r\n"
    return (
        f"From: Sender {i % 7} <s{i % 7}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: kill {i}\r\nDate: Mon, {1 + i % 28:02d} Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
        f"Message-ID: <kill{i}.{rng.getrandbits(32):x}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()


@dataclass
class Pop3Account:
    """One POP3 account of mailtui on ``user``'s mailbox, reached through ``tap``."""

    user: MailUser
    tap: Pop3Tap
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    #: The content of every message some run retrieved whole, by UIDL.
    contents: dict[str, bytes] = field(default_factory=dict)
    exports: int = 0
    log_start: int = 0  # where this test's part of Dovecot's log begins
    module: str = "mailtui"  # what ``sync`` runs: ``python -m MODULE sync --once``

    def configure(self, *, leave_on_server: bool) -> None:
        config = self.home / "config.toml"
        config.write_text(
            "[accounts.pop]\n"
            'kind = "pop3"\n'
            f'email = "{self.user.email}"\n'
            f'username = "{self.user.name}"\n'
            f'host = "{self.user.host}"\n'
            f"port = {self.tap.port}\n"
            'security = "none"\n'
            f"password_command = \"printf '%s' '{self.user.password}'\"\n"
            f"leave_on_server = {'true' if leave_on_server else 'false'}\n"
        )
        self.env = {
            **os.environ,
            "MAILTUI_DATA_DIR": str(self.home / "data"),
            "MAILTUI_STATE_DIR": str(self.home / "state"),
            "MAILTUI_CONFIG": str(config),
        }

    def sync(self, kill_at: KillAt | None) -> tuple[int, str]:
        """One ``mailtui sync --once``, killed where ``kill_at`` says (if it gets there):
        (exit status, stderr)."""
        self.tap.arm(kill_at)
        proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "sync", "--once"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
            cwd=ROOT,
        )
        self.tap.attach(proc.pid)
        try:
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for got in self.tap.retrieved:
            assert got.uidl is not None, "a RETR before any UIDL listing"
            self.contents[got.uidl] = got.message
        assert not self.tap.errors, self.tap.errors
        return proc.returncode, err

    def rows(self) -> int:
        """How many messages the store has rows for (with their body or headers only)."""
        db = self.home / "data" / "mail.sqlite"
        if not db.exists():
            return 0
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            try:
                (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
            except sqlite3.OperationalError:  # killed before its tables were made
                return 0
        return int(count)

    def bodies(self) -> int:
        """How many bodies the store has committed (read while the client runs)."""
        db = self.home / "data" / "mail.sqlite"
        if not db.exists():
            return 0
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            try:
                (count,) = conn.execute("SELECT count(*) FROM bodies").fetchone()
            except sqlite3.OperationalError:  # no tables yet, or the writer holds a lock
                return 0
        return int(count)

    def stored(self, *, complete: bool = False) -> list[bytes]:
        """Every message of this account whose body the store holds, through ``mailtui
        export``. ``complete``: no message may be there with its headers only."""
        if self.rows() == 0:
            return []
        self.exports += 1
        target = self.home / f"export-{self.exports}"
        p = run_mailtui(self.env, "export", "--account", "pop", "--maildir", str(target))
        assert p.returncode == 0, p.stderr
        if complete:
            assert "headers are cached" not in p.stdout, p.stdout
        return [
            f.read_bytes()
            for sub in ("cur", "new")
            for d in target.rglob(sub)
            for f in d.iterdir()
            if f.is_file()
        ]

    def on_server(self) -> list[bytes]:
        """The messages in the user's Maildir once every POP3 session of theirs has
        ended: Dovecot's pop3 process goes on after a dropped connection (it logs the
        disconnection, then moves the messages it showed from new/ to cur/, or expunges
        after QUIT), so this waits until every process that logged in has exited."""
        sessions_ended(self.user.dovecot, self.user.name, self.log_start)
        return [f.read_bytes() for f in self.user.message_files()]


@pytest.fixture
def account(mail_user: MailUser, tmp_path: Path) -> Iterator[Pop3Account]:
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        yield Pop3Account(mail_user, tap, tmp_path, log_start=mail_user.dovecot.log_size())


def kill_points(
    rng: random.Random, raws: list[bytes], count: int, verbs: tuple[str, ...]
) -> list[KillAt]:
    """``count`` seeded kill points over the whole conversation: after B bytes of the
    server's answers (mostly inside a RETR answer), at the N-th TOP, RETR or DELE, at the
    QUIT after the downloads, or at one of the first commands (the login). The first is
    sure to be reached: a download retrieves every message and QUITs, with deletion
    deletes each first, and the issue asks for the newest 500 headers first (TOP)."""
    total = sum(len(r) for r in raws)
    points = []
    for _ in range(count):
        kind = rng.choice(("bytes", "bytes", "login", *verbs))
        if kind == "bytes":
            points.append(KillAt(server_bytes=rng.randint(1, total)))
        elif kind == "login":
            points.append(KillAt(command=rng.randint(1, 3)))
        elif kind == "QUIT":  # of the session that downloaded, not of a login check
            points.append(KillAt(verb="QUIT", after="RETR"))
        else:
            points.append(KillAt(verb=kind, nth=rng.randint(1, len(raws))))
    return points


def assert_exactly(got: list[bytes], raws: list[bytes], what: str) -> None:
    have, want = Counter(got), Counter(raws)
    missing, extra = want - have, have - want
    assert not missing and not extra, (
        f"{what}: {sum(missing.values())} of the originals missing, "
        f"{sum(extra.values())} extra or doubled"
    )


def assert_completes(account: Pop3Account) -> None:
    status, err = account.sync(None)
    assert account.tap.killed is None
    assert status == 0, err
    assert "Traceback" not in err


def assert_stored_once(account: Pop3Account, raws: list[bytes]) -> None:
    """The store holds exactly ``raws``, each once, every body there."""
    assert_exactly(account.stored(complete=True), raws, "the store")
    assert account.rows() == len(raws)


@pytest.mark.parametrize("seed", DELETE_SEEDS, ids=[f"seed{s}" for s in DELETE_SEEDS])
def test_killed_at_random_points_deleting_after_download_loses_and_doubles_nothing(
    account: Pop3Account, seed: int
) -> None:
    rng = random.Random(seed)
    raws = [message(i, rng) for i in range(rng.randint(60, 150))]
    account.user.deliver_many(raws)
    account.configure(leave_on_server=False)
    originals = set(raws)
    points = kill_points(rng, raws, rng.randint(1, 3), ("TOP", "RETR", "DELE", "QUIT"))
    for run, kill_at in enumerate(points):
        status, err = account.sync(kill_at)
        if account.tap.killed is None:  # a later point the run never got to: it finished
            assert run > 0, f"the first kill point ({kill_at}) was never reached"
            assert status == 0, err
            break
        assert status == -9, err
        stored, server = account.stored(), account.on_server()
        where = f"after the kill at {account.tap.killed} (seed {seed}, run {run})"
        assert len(stored) == len(set(stored)), f"the store holds a message twice {where}"
        assert set(stored) | set(server) == originals, f"lost or foreign messages {where}"
        for uidl in account.tap.deleted:  # deleted on the server only once committed here
            assert uidl in account.contents, f"DELE of {uidl}, never downloaded, {where}"
            assert account.contents[uidl] in stored, f"DELE of {uidl} before its commit {where}"
    assert_completes(account)
    assert account.on_server() == [], "the completed run left messages on the server"
    assert_stored_once(account, raws)


@pytest.mark.parametrize("seed", KEEP_SEEDS, ids=[f"seed{s}" for s in KEEP_SEEDS])
def test_killed_at_random_points_leaving_mail_on_the_server_downloads_nothing_twice(
    account: Pop3Account, seed: int
) -> None:
    rng = random.Random(1000 + seed)
    raws = [message(i, rng) for i in range(rng.randint(60, 150))]
    account.user.deliver_many(raws)
    account.configure(leave_on_server=True)
    before: set[bytes] = set()
    points = kill_points(rng, raws, rng.randint(1, 3), ("TOP", "RETR", "QUIT"))
    for run, kill_at in enumerate([*points, None]):
        status, err = account.sync(kill_at)
        again = [r.message for r in account.tap.retrieved if r.message in before]
        assert not again, f"run {run} downloaded {len(again)} stored messages again (seed {seed})"
        assert account.tap.deleted == [], "DELE on an account that leaves mail on the server"
        if kill_at is not None and account.tap.killed is None:
            assert run > 0, f"the first kill point ({kill_at}) was never reached"
        assert status == (-9 if account.tap.killed else 0), err
        stored = account.stored()
        assert len(stored) == len(set(stored)), f"the store holds a message twice (run {run})"
        assert set(stored) <= set(raws)
        before = set(stored)
        if account.tap.killed is None:
            break
    assert_stored_once(account, raws)
    assert_exactly(account.on_server(), raws, "the server")
    assert_completes(account)  # nothing new: nothing downloaded
    assert account.tap.retrieved == []


def test_killed_between_the_commit_and_quit_the_next_run_redoes_the_deletions(
    account: Pop3Account,
) -> None:
    rng = random.Random(99)
    raws = [message(i, rng) for i in range(80)]
    account.user.deliver_many(raws)
    account.configure(leave_on_server=False)
    status, err = account.sync(KillAt(verb="QUIT", after="DELE"))
    assert account.tap.killed is not None, "no QUIT after a DELE"
    assert status == -9, err
    deleted = list(account.tap.deleted)
    assert deleted, "killed at QUIT, but nothing was marked deleted"
    stored = account.stored()
    assert all(account.contents[uidl] in stored for uidl in deleted)
    # No QUIT, so none of the DELEs were final: the server still has every message.
    assert_exactly(account.on_server(), raws, "the server after the kill at QUIT")

    assert_completes(account)
    again = {r.uidl for r in account.tap.retrieved} & set(deleted)
    assert not again, f"{len(again)} messages already stored were downloaded again"
    assert set(deleted) <= set(account.tap.deleted), "the deletions were not redone"
    assert account.on_server() == []
    assert_stored_once(account, raws)


def test_killed_at_its_first_dele_the_message_is_already_stored(account: Pop3Account) -> None:
    rng = random.Random(7)
    raws = [message(i, rng) for i in range(60)]
    account.user.deliver_many(raws)
    account.configure(leave_on_server=False)
    status, err = account.sync(KillAt(verb="DELE"))
    assert account.tap.killed is not None and status == -9, err
    (uidl,) = account.tap.deleted
    assert account.contents[uidl] in account.stored()
    assert_exactly(account.on_server(), raws, "the server")
    assert_completes(account)
    assert account.on_server() == []
    assert_stored_once(account, raws)


def test_killed_after_a_committed_body_batch_downloads_none_of_it_again(
    account: Pop3Account,
) -> None:
    """Messages big enough for several body batches (about 16 MB each): killed in the
    third, the next run must not RETR what the first batches committed."""
    rng = random.Random(5)
    raws = [
        message(i, rng) + base64.encodebytes(rng.randbytes(750_000)).replace(b"\n", b"\r\n")
        for i in range(36)
    ]
    account.user.deliver_many(raws)
    account.configure(leave_on_server=True)
    # The worker commits a batch while the next one is fetched; on a loaded machine the
    # third batch's RETRs can come before the first batch's commit ends, so the kill
    # waits for a body in the store (the RETR held, the commit going on).
    status, err = account.sync(KillAt(verb="RETR", nth=33, once=lambda: account.bodies() > 0))
    assert account.tap.killed is not None and status == -9, err
    assert not account.tap.errors, account.tap.errors
    before = set(account.stored())
    assert before, "nothing committed before the kill in the third body batch"
    assert before <= set(raws)
    assert_completes(account)
    again = [r for r in account.tap.retrieved if r.message in before]
    assert not again, f"{len(again)} messages stored before the kill were downloaded again"
    assert_stored_once(account, raws)

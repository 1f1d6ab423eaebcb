"""A real Exchange ActiveSync server for integration tests: SOGo, on 127.0.0.1 only.

SOGo (Debian's `sogo` + `sogo-activesync`, 5.8) speaks ActiveSync 2.5 to 14.1 at
`http://127.0.0.1:PORT/SOGo/Microsoft-Server-ActiveSync` (plain HTTP, Basic auth). It
needs, all started here as the suite's own processes in one temp dir:

    pg/, run/      PostgreSQL (postgres.py): the user table `sogo_users` (plain passwords)
                   and SOGo's own tables (profiles, folder info, per-device sync state)
    memcached      on a free port
    dovecot/       a DovecotServer (dovecot.py) with the ACL and METADATA plugins SOGo's
                   mail code wants; SOGo logs in to it with each user's own password
    SMTPServer     (smtp.py, in this process): SOGo sends with AUTH PLAIN as the user,
                   without TLS (see below); local recipients get it in their INBOX
    sogo/          sogod's config (the GNUstep user-defaults domain `sogod`, so
                   /etc/sogo is never read for anything we set), its log `sogo.log`

Users (`add_user`) go into both `sogo_users` and Dovecot's passwd files with the same
password; their address is `NAME@mailtui.test`. Mail goes in over IMAP (`append`) or
straight into the Maildir (`deliver`).

Gotcha worth knowing (from the verified recipe): SOGo's mail SyncKey is built from the
`[HIGHESTMODSEQ]` of Dovecot's SELECT answer, which Dovecot only sends for a mailbox whose
index tracks modseqs. `add_user` therefore logs in once with `ENABLE CONDSTORE` and
EXAMINEs every folder ("priming"); a folder created later needs `prime_modseq(user)`
before its first ActiveSync Sync, or that Sync answers "no changes" forever.

SOGo's SMTP over TLS (SMTPS or STARTTLS) is not used: SOGo 5.8 (Debian 5.8.0-2+deb12u3
and u4) frees the SMTP socket before its TLS session, whose close_notify is then written
into the IMAP connection that reuses the descriptor; Dovecot answers that "tag" with
`* BAD`, and SendMail with SaveInSentItems hangs on the Sent copy for good.

sogod is started with `WONoDetach` (its watchdog stays our child); its workers call
setsid() and barely honour SIGTERM (8-20 s once they served a request), so `stop()`
freezes the watchdog, collects its workers from /proc and SIGKILLs them all: the
server's state is in PostgreSQL, which is thrown away too. If the test process is killed
instead, every daemon gets SIGTERM from the parent-death signal (setpriv): memcached and
Dovecot end at once, sogod's workers within about 20 s, and PostgreSQL (a smart
shutdown) once they have let go of it; the directory stays behind (checked with kill -9).

Verified on Debian 12 (SOGo 5.8.0-2+deb12u3 and u4, PostgreSQL 15, Dovecot 2.3.19), with
tests/integration/test_sogo_harness.py passing both ways:
- as root (CI): the daemons run as their system users (postgres, memcache, sogo,
  Dovecot's own), so the temp dir's parents must be searchable by them (/tmp is);
- as a normal user (checked as `nobody`): everything runs as that user, but sogod aborts
  at start unless it can read /etc/sogo/sogo.conf (root:sogo 0640; nothing in it is used,
  our settings override it), so that user must be in group `sogo`. `start()` says so.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import imaplib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from . import logfile
from .dovecot import INSTALL_HINT, DovecotServer, _alive, _check_searchable, _descendants
from .maildir import Flags
from .memcached import MEMCACHED, MemcachedServer
from .ports import LOOPBACK, free_ports, wait_until
from .postgres import PostgresServer
from .procs import run_as, tail
from .smtp import SMTPServer
from .sogo_config import DOVECOT_EXTRA, SCHEMA, gnustep_conf, sogod_plist
from .tls import TLSFiles

SOGOD = Path("/usr/sbin/sogod")
ACTIVESYNC_BUNDLE = Path("/usr/lib/GNUstep/SOGo/ActiveSync.SOGo")
SYSTEM_CONFIG = Path("/etc/sogo/sogo.conf")
EAS_PATH = "/SOGo/Microsoft-Server-ActiveSync"
SOGO_DATABASE = "postgres"

_SAFE = re.compile(r"^[A-Za-z0-9_.+-]+$")


class SOGoNotInstalled(RuntimeError):
    """sogod, its ActiveSync bundle, memcached or PostgreSQL is missing."""


class SOGoStartError(RuntimeError):
    """A piece of the SOGo stack did not come up; the message carries its log tail."""


def find_sogo() -> None:
    """Raise SOGoNotInstalled unless every binary the stack needs is present."""
    for path, package in (
        (SOGOD, "sogo"),
        (ACTIVESYNC_BUNDLE, "sogo-activesync"),
        (MEMCACHED, "memcached"),
    ):
        if not path.exists():
            raise SOGoNotInstalled(f"{path} ({package}) is missing: {INSTALL_HINT}")


class SOGoServer:
    """SOGo with ActiveSync and everything under it; a context manager.

    After `start()`: `url` (the ActiveSync endpoint), `port`, `imap_port`, `domain`,
    `dovecot`, `smtp`, `postgres`, `log_path`, `startup_seconds` and `timings` (seconds
    per step).
    """

    host = LOOPBACK

    def __init__(
        self,
        tls: TLSFiles,
        base_dir: Path | None = None,
        *,
        workers: int = 3,
        ping_max: int = 10,
        sync_max: int = 10,
        internal_sync: int = 5,
        debug: bool = False,
        keep_dir: bool = False,
    ) -> None:
        """Prepare (not start) a stack.

        workers: sogod worker processes; each long poll (Ping, Sync with Wait) holds one.
        ping_max, sync_max: the longest Ping heartbeat / Sync wait SOGo grants (seconds;
            a client asking more gets Status 5 and this limit). internal_sync: how often
            SOGo looks for changes during them (it never sleeps less than 5 s).
        debug: log every ActiveSync request/response and all IMAP traffic to sogo.log.
        keep_dir: leave the directory after `stop()` (also MAILTUI_KEEP_SERVER_DIRS=1).
        """
        self.tls = tls
        self._own_dir = base_dir is None
        self._base_dir = base_dir.resolve() if base_dir is not None else None
        self.workers = workers
        self.ping_max, self.sync_max, self.internal_sync = ping_max, sync_max, internal_sync
        self.debug = debug
        self.keep_dir = keep_dir or os.environ.get("MAILTUI_KEEP_SERVER_DIRS") == "1"
        self.is_root = os.geteuid() == 0
        self.port = 0
        self.startup_seconds = 0.0
        self.timings: dict[str, float] = {}
        self.passwords: dict[str, str] = {}
        self._sogod: subprocess.Popen[bytes] | None = None
        self._memcached: MemcachedServer | None = None
        self._dovecot: DovecotServer | None = None
        self._smtp: SMTPServer | None = None
        self._postgres: PostgresServer | None = None

    # ------------------------------------------------------------------ facts
    @property
    def base_dir(self) -> Path:
        if self._base_dir is None:
            self._base_dir = Path(tempfile.mkdtemp(prefix="mailtui-sogo-")).resolve()
        return self._base_dir

    @property
    def url(self) -> str:
        """The ActiveSync endpoint."""
        return f"http://{self.host}:{self.port}{EAS_PATH}"

    @property
    def log_path(self) -> Path:
        """sogod's log (with `debug`, every ActiveSync exchange and IMAP command)."""
        return self.base_dir / "sogo" / "sogo.log"

    @property
    def dovecot(self) -> DovecotServer:
        assert self._dovecot is not None, "SOGoServer not started"
        return self._dovecot

    @property
    def smtp(self) -> SMTPServer:
        assert self._smtp is not None, "SOGoServer not started"
        return self._smtp

    @property
    def memcached(self) -> MemcachedServer:
        assert self._memcached is not None, "SOGoServer not started"
        return self._memcached

    @property
    def postgres(self) -> PostgresServer:
        assert self._postgres is not None, "SOGoServer not started"
        return self._postgres

    @property
    def imap_port(self) -> int:
        return self.dovecot.imap_port

    @property
    def domain(self) -> str:
        return self.dovecot.domain

    @property
    def running(self) -> bool:
        return self._sogod is not None and self._sogod.poll() is None

    def email(self, user: str) -> str:
        return f"{user}@{self.domain}"

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 60.0) -> None:
        """Start every piece and wait until the ActiveSync URL answers (401 unauthenticated).

        initdb (the slowest step) runs while memcached, Dovecot and the SMTP server start.
        sogod must wait for the database: its workers look at it when they start, and a
        failed attempt keeps them off it for 5 s.
        """
        if self.running:
            return
        find_sogo()
        if SYSTEM_CONFIG.exists() and not os.access(SYSTEM_CONFIG, os.R_OK):
            raise SOGoStartError(
                f"sogod aborts when it cannot read {SYSTEM_CONFIG} (the tests' settings "
                "override everything in it): run the tests as root, or as a member of "
                "group sogo (`sudo adduser $USER sogo`, then log in again)"
            )
        started = time.monotonic()
        self._prepare_dirs()
        try:
            self._postgres = PostgresServer(self.base_dir)
            self._postgres.initdb_start()
            self._memcached = MemcachedServer(self.base_dir / "log")
            self._step("memcached", self._memcached.start)
            self._dovecot = DovecotServer(
                self.tls, self.base_dir / "dovecot", extra_config=DOVECOT_EXTRA
            )
            self._step("dovecot", self._dovecot.start)
            self._smtp = SMTPServer(self._dovecot, self.tls, require_starttls=False)
            self._step("smtp", self._smtp.start)
            self._step("postgres", lambda: self.postgres.start(timeout))
            self._step("schema", self._create_schema)
            self._step("sogod", lambda: self._start_sogod(timeout))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        _RUNNING.add(self)

    def _step(self, name: str, action: Callable[[], object]) -> None:
        t0 = time.monotonic()
        action()
        self.timings[name] = time.monotonic() - t0

    def stop(self) -> None:
        """Stop sogod, then the servers under it; remove the directory unless kept."""
        _RUNNING.discard(self)
        self._stop_sogod()
        if self._memcached is not None:
            self._memcached.stop()
            self._memcached = None
        if self._smtp is not None:
            self._smtp.stop()
        if self._dovecot is not None:
            # Its clean shutdown takes a second; the mail is thrown away with the directory.
            self._dovecot.stop(graceful=False)
        if self._postgres is not None:
            self._postgres.stop()
        self._smtp = self._dovecot = None
        self._postgres = None
        if self._own_dir and not self.keep_dir and self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None

    def __enter__(self) -> SOGoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _prepare_dirs(self) -> None:
        base = self.base_dir
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        for sub in ("log", "sogo", "sogo/defaults"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        (base / "log").chmod(0o1777)
        if self.is_root:
            for user in ("postgres", "sogo", "memcache"):
                pw = pwd.getpwnam(user)
                _check_searchable(base, pw.pw_uid, pw.pw_gid)
            sogo = pwd.getpwnam("sogo")
            for path in (base / "sogo", base / "sogo" / "defaults"):
                os.chown(path, sogo.pw_uid, sogo.pw_gid)

    def _create_schema(self) -> None:
        # One psql run (each costs about 0.1 s); SOGo's tables go into the `postgres`
        # database, as CREATE DATABASE alone takes a quarter of a second.
        self.postgres.psql(
            "CREATE ROLE sogo LOGIN PASSWORD 'sogo';\n"
            "ALTER SCHEMA public OWNER TO sogo;\n"
            "\\connect postgres sogo\n" + SCHEMA
        )

    # ------------------------------------------------------------------ sogod
    def _launch_sogod(self) -> None:
        """Write sogod's config for a free port and start it (without waiting)."""
        sogo_dir = self.base_dir / "sogo"
        system_conf = Path("/etc/GNUstep/GNUstep.conf").read_text()
        (sogo_dir / "GNUstep.conf").write_text(gnustep_conf(system_conf, sogo_dir / "defaults"))
        user = "sogo" if self.is_root else None
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "GNUSTEP_CONFIG_FILE": str(sogo_dir / "GNUstep.conf"),
        }
        if user is None:
            env["HOME"] = str(sogo_dir)
        (self.port,) = free_ports(1)
        plist = sogod_plist(
            host=self.host,
            port=self.port,
            workers=self.workers,
            log_path=self.log_path,
            pid_path=sogo_dir / "sogo.pid",
            db=self.postgres.url(SOGO_DATABASE, "sogo", "sogo"),
            imap_port=self.dovecot.imap_port,
            smtp_port=self.smtp.port,
            domain=self.domain,
            memcached_port=self.memcached.port,
            ping_max=self.ping_max,
            sync_max=self.sync_max,
            internal_sync=self.internal_sync,
            debug=self.debug,
        )
        (sogo_dir / "defaults" / "sogod.plist").write_text(plist)
        if self.is_root:
            sogo = pwd.getpwnam("sogo")
            for path in sogo_dir.rglob("*"):
                os.chown(path, sogo.pw_uid, sogo.pw_gid)
        with open(sogo_dir / "stdout.log", "ab") as out:
            self._sogod = subprocess.Popen(
                [*run_as(user), str(SOGOD)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd="/",
                start_new_session=True,
            )

    def _start_sogod(self, timeout: float) -> None:
        """Start sogod and wait until it answers; again on a new port when its port was
        taken by another process meanwhile."""
        last = ""
        for _attempt in range(3):
            self._launch_sogod()
            proc = self._sogod
            assert proc is not None

            def ready(proc: subprocess.Popen[bytes] = proc) -> bool:
                if proc.poll() is not None:
                    return True
                # Every worker up: until then a request can meet "No child available to
                # handle incoming request" and a closed connection.
                return self._workers_ready() >= self.workers and self._options_status() in (
                    200,
                    401,
                )

            if wait_until(ready, timeout, interval=0.05) and proc.poll() is None:
                return
            last = tail(self.log_path) + "\n" + tail(self.base_dir / "sogo" / "stdout.log", 10)
            self._stop_sogod()
            if "unable to listen" not in last and "Address already in use" not in last:
                break
        config = self.base_dir / "sogo" / "defaults" / "sogod.plist"
        raise SOGoStartError(f"sogod did not answer on {self.url} (config {config}):\n{last}")

    def _workers_ready(self) -> int:
        """How many sogod workers have told the watchdog they are ready (from its log)."""
        pids = re.findall(
            r"sogod \[(\d+)\]: <[^>]*\[WOHttpAdaptor\]> notified the watchdog that we are ready",
            self.log_text(),
        )
        return len(set(pids))

    def _options_status(self) -> int | None:
        """HTTP status of an unauthenticated OPTIONS on the ActiveSync URL (None: no answer)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            conn.request("OPTIONS", EAS_PATH)
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    def _stop_sogod(self) -> None:
        proc, self._sogod = self._sogod, None
        if proc is None:
            return
        # Freeze the watchdog so that it cannot fork a new worker, then kill the lot (the
        # workers are their own session leaders: a process-group signal would miss them).
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGSTOP)
        family = _descendants(proc.pid)
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)
        if not wait_until(lambda: not any(_alive(p) for p in family), 5.0):
            raise RuntimeError(f"sogod processes survived SIGKILL: {sorted(family)}")

    # ------------------------------------------------------------------ users and mail
    def add_user(self, name: str, password: str, *, full_name: str | None = None) -> None:
        """A user for ActiveSync and IMAP (same password), with primed folders."""
        for what, value in (("user name", name), ("password", password)):
            if not _SAFE.match(value):
                raise ValueError(f"{what} must match {_SAFE.pattern}: {value!r}")
        cn = (full_name or name.capitalize()).replace("'", "''")
        self.postgres.psql(
            "INSERT INTO sogo_users VALUES "
            f"('{name}', '{name}', '{password}', '{cn}', '{self.email(name)}') "
            "ON CONFLICT (c_uid) DO UPDATE SET c_password = EXCLUDED.c_password;",
            database=SOGO_DATABASE,
            user="sogo",
        )
        self.dovecot.add_user(name, password)
        self.passwords[name] = password
        # SOGo creates Templates at its first login; made now, it gets primed with the rest.
        self.dovecot.create_folder(name, "Templates", subscribe=False)
        self.prime_modseq(name)

    def imap(self, user: str) -> imaplib.IMAP4:
        """A logged-in IMAP connection to SOGo's Dovecot as `user` (plain, loopback)."""
        conn = imaplib.IMAP4(self.host, self.dovecot.imap_port, timeout=30)
        conn.login(user, self.passwords[user])
        return conn

    def prime_modseq(self, user: str) -> None:
        """Make Dovecot track modseqs in every folder of `user` (see the module docstring);
        needed once per folder, before its first ActiveSync Sync."""
        conn = self.imap(user)
        try:
            conn._simple_command("ENABLE", "CONDSTORE")  # noqa: SLF001 (no public ENABLE)
            for name in self._folders(conn):
                typ, data = conn.select(_quote(name), readonly=True)
                if typ != "OK":
                    raise RuntimeError(f"EXAMINE {name} failed for {user}: {data!r}")
        finally:
            conn.logout()

    @staticmethod
    def _folders(conn: imaplib.IMAP4) -> list[str]:
        typ, data = conn.list('""', "*")
        if typ != "OK":
            raise RuntimeError(f"LIST failed: {data!r}")
        names = []
        for line in data:
            if not isinstance(line, bytes):
                continue
            m = re.match(rb'\(([^)]*)\) (?:"[^"]*"|NIL) (.*)$', line)
            if m and b"\\noselect" not in m.group(1).lower():
                names.append(m.group(2).decode().strip('"'))
        return names

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Sequence[str] = ()
    ) -> int:
        """Put a message into `folder` over IMAP APPEND; its UID."""
        conn = self.imap(user)
        try:
            flag_list = "(" + " ".join(flags) + ")" if flags else None
            typ, data = conn.append(_quote(folder), flag_list, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND to {folder} failed for {user}: {data!r}")
            m = re.search(rb"APPENDUID \d+ (\d+)", data[0] if data and data[0] else b"")
            if m is None:
                raise RuntimeError(f"APPEND to {folder} gave no APPENDUID: {data!r}")
            return int(m.group(1))
        finally:
            conn.logout()

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX", flags: Flags = "") -> Path:
        """Write a message straight into a primed folder's Maildir (fast, no IMAP)."""
        return self.dovecot.deliver(user, raw, folder, flags)

    def log_text(self, start: int = 0) -> str:
        """sogod's log from byte offset `start` (see `log_size`)."""
        return logfile.log_text(self.log_path, start)

    def log_size(self) -> int:
        return logfile.log_size(self.log_path)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


_RUNNING: set[SOGoServer] = set()


@atexit.register
def _stop_all() -> None:
    """Last resort: stop stacks a test run forgot (fixtures stop them normally)."""
    for server in list(_RUNNING):
        server.stop()

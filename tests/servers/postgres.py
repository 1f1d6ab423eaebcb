"""A private PostgreSQL cluster for integration tests (SOGo keeps its users and state in it).

`initdb` makes a fresh cluster in a directory of ours; `postgres` runs in the foreground as
our child on 127.0.0.1 and a free port, with its unix socket in a directory of ours too, so
the system cluster (and /etc/postgresql, /var/run/postgresql) is never used. Durability is
off (`fsync`, `synchronous_commit`, `full_page_writes`): the data dies with the test run.

PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` system
user (the directory's parents must be searchable by it); as another user, to that user.
Clients authenticate with `trust` (loopback only).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

from .dovecot import INSTALL_HINT, _alive, _descendants
from .ports import LOOPBACK, free_ports, wait_until
from .procs import run_as, tail

PG_LIB = Path("/usr/lib/postgresql")


class PostgresNotInstalled(RuntimeError):
    """The PostgreSQL server binaries are missing on this machine."""


class PostgresStartError(RuntimeError):
    """initdb or postgres failed; the message carries the end of the log."""


def find_postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/N/bin holding initdb and postgres."""
    candidates = sorted(
        (p for p in PG_LIB.glob("*/bin") if (p / "initdb").is_file() and (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresNotInstalled(f"PostgreSQL's server is not installed: {INSTALL_HINT}")
    return candidates[-1]


class PostgresServer:
    """One private cluster in `base_dir/pg`, socket in `base_dir/run`; `start()`/`stop()`.

    `initdb_start()` runs initdb in the background so the caller can start other servers
    meanwhile; `start()` waits for it (or runs it) and then starts `postgres`.
    """

    host = LOOPBACK

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.port = 0
        self.user = "postgres" if os.geteuid() == 0 else None
        self._bin: Path | None = None
        self._initdb: subprocess.Popen[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "pg"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "log" / "postgresql.log"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def url(self, database: str, user: str, password: str) -> str:
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database}"

    def initdb_start(self) -> None:
        """Start initdb (about a second) without waiting for it."""
        self._bin = find_postgres_bin()
        for sub in ("pg", "run", "log"):
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o1777)
        (self.base_dir / "log").chmod(0o1777)
        self.data_dir.chmod(0o700)
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        with open(self.base_dir / "log" / "initdb.log", "wb") as out:
            self._initdb = subprocess.Popen(
                [
                    *run_as(self.user),
                    str(self._bin / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                    "--no-instructions",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
            )

    def start(self, timeout: float = 60.0) -> None:
        """Finish initdb, start postgres on a free port and wait until it takes queries."""
        if self._initdb is None:
            self.initdb_start()
        assert self._initdb is not None and self._bin is not None
        try:
            code = self._initdb.wait(timeout)
        except subprocess.TimeoutExpired:
            self._initdb.kill()
            code = -1
        if code != 0:
            raise PostgresStartError(
                f"initdb failed (exit {code}):\n{tail(self.base_dir / 'log' / 'initdb.log')}"
            )
        last = ""
        for _attempt in range(3):
            (self.port,) = free_ports(1)
            if self._start_once(timeout):
                return
            last = tail(self.log_path)
            self.stop()
            if "Address already in use" not in last:
                break
        raise PostgresStartError(f"PostgreSQL did not start on port {self.port}:\n{last}")

    def _start_once(self, timeout: float) -> bool:
        assert self._bin is not None
        self.log_path.unlink(missing_ok=True)
        with open(self.log_path, "wb") as out:
            self._proc = subprocess.Popen(
                [
                    *run_as(self.user),
                    str(self._bin / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-c",
                    f"listen_addresses={self.host}",
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.socket_dir),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "max_connections=200",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
                start_new_session=True,
            )
        proc = self._proc

        def ready() -> bool:
            if proc.poll() is not None:
                return True
            try:
                return b"ready to accept connections" in self.log_path.read_bytes()
            except OSError:
                return False

        return wait_until(ready, timeout) and proc.poll() is None

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT: the data is thrown away anyway), then SIGKILL
        whatever is left of its processes."""
        proc, self._proc = self._proc, None
        if self._initdb is not None and self._initdb.poll() is None:
            self._initdb.kill()
            self._initdb.wait(10)
        if proc is None:
            return
        family = set(_descendants(proc.pid))
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if not wait_until(lambda: not any(_alive(p) for p in family), 2.0):
            for p in family:
                if _alive(p):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(p, signal.SIGKILL)

    def psql(self, sql: str, *, database: str = "postgres", user: str = "postgres") -> str:
        """Run SQL through psql over the unix socket; the output rows (tuples only)."""
        assert self._bin is not None
        started = time.monotonic()
        while True:
            result = subprocess.run(
                [
                    str(self._bin / "psql"),
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    str(self.socket_dir),
                    "-p",
                    str(self.port),
                    "-U",
                    user,
                    "-d",
                    database,
                ],
                input=sql.encode(),
                capture_output=True,
                timeout=60,
                env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
            )
            err = result.stderr.decode("utf-8", "replace").strip()
            if result.returncode == 0:
                return result.stdout.decode("utf-8", "replace")
            if "starting up" in err and time.monotonic() - started < 10:
                time.sleep(0.05)
                continue
            raise RuntimeError(f"psql failed ({result.returncode}): {err}\nSQL: {sql[:500]}")

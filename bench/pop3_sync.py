"""Full download and no-change resync of a POP3 mailbox, mailtui vs mpop, whole processes.

    python bench/pop3_sync.py N [--runs R]

Starts the test harness's Dovecot (tests/servers) with N generated messages in the POP3
mailbox (bench/mailgen.py: mixed sizes and MIME, a few big attachments; 10,000 ≈ 500 MB),
then downloads all of it into a new, empty place, over plain POP3 on loopback, with

- mailtui: ``python -m mailtui sync --once`` for a new ``kind = "pop3"`` account with
  ``leave_on_server = true`` (the default), a fresh data directory each time;
- mpop (Debian: mpop; ``scripts/install-bench-deps.sh``): ``delivery maildir``,
  ``keep on``, ``received_header off``, ``killsize off``, a fresh Maildir and UIDL file.

After one untimed warm-up download by each, R timed downloads of each (default 3), taking
turns, each after ``settle`` (imap_sync.py says why); the figures are the medians:

    newest_500_s     start → the newest 500 messages' rows are committed in the store
    all_bodies_s     start → every message's body is committed in the store
    sync_exit_s      start → exit of that whole process
    mpop_full_s      start → exit of mpop (its run ends when the last message is delivered)
    full_ratio_vs_mpop   all_bodies_s / mpop_full_s
    resync_s         ``sync --once`` again with nothing new, start → exit (best of 2)
    mpop_resync_s    mpop again with nothing new (best of 2)
    peak_rss_mb      the largest RSS (VmHWM, polled from /proc) of mailtui's processes
    download_rss_mb  of which the largest seen by the time every body was committed (the
                     rest is the search index's text, made after the download: shared
                     with IMAP accounts, not POP3's)

How "committed" is seen, from the outside: this process polls mailtui's SQLite store
read-only (``mode=ro``; every 20 ms until the newest 500 are in, then every 50 ms) and
notes when ``messages`` holds the 500 newest Dates of the mailbox and when ``bodies``
has a row for each of the N messages. A row there is on disk in the WAL: what a reader
of the store sees. When the process exits before a poll saw every body, the exit time
is taken (the store is checked once more after the exit).

Afterwards every copy is checked against the server's files in Dovecot's Maildir: each
of mailtui's stores through ``mailtui export --maildir`` (byte for byte, every message
exactly once) and each of mpop's Maildirs (byte for byte after CRLF → LF: mpop's maildir
delivery stores Unix line ends; it adds nothing else with ``received_header off``).

Targets at N = 10,000: full ratio ≤ 1.0, newest 500 < 1 s, peak RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import mailgen  # noqa: E402
from imap_sync import settle  # noqa: E402
from sync_run import compile_mailtui, reap, start_sync_once  # noqa: E402

from tests.servers import DovecotServer, make_self_signed_cert  # noqa: E402

USER, PASSWORD = "bench", "bench-secret"
NEWEST = 500


class MailtuiFailed(Exception):
    """A mailtui process (sync or export) did not do its job."""


def generated(n: int, seed: int = 1) -> Iterator[bytes]:
    """mailgen.messages(n), one at a time (500 MB need not be in memory at once)."""
    import random

    rng = random.Random(seed)
    now = time.time()
    span = 730.0 * 86400
    for i in range(1, n + 1):
        yield mailgen.message(i, n, rng, now, span)


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# ---------------------------------------------------------------------- mailtui
def config_text(d: DovecotServer) -> str:
    return (
        "[accounts.bench]\n"
        'kind = "pop3"\n'
        f'email = "{USER}@{d.domain}"\n'
        f'username = "{USER}"\n'
        f'host = "{d.host}"\n'
        f"port = {d.pop3_port}\n"
        'security = "none"\n'
        f"password_command = \"printf '%s' {PASSWORD}\"\n"
        "leave_on_server = true\n"
    )


class StoreWatch(threading.Thread):
    """Polls a store read-only: when the newest ``NEWEST`` rows and all N bodies are in."""

    def __init__(
        self, db: Path, n: int, newest_date: int, started: float, peak_kb: list[int]
    ) -> None:
        super().__init__(daemon=True)
        self.db, self.n, self.newest_date, self.started = db, n, newest_date, started
        self.newest = self.bodies = float("nan")
        self.peak_kb = peak_kb  # the child's VmHWM so far (sync_run.watch_hwm)
        self.download_kb = 0
        self.stop = threading.Event()

    def counts(self, conn: sqlite3.Connection) -> tuple[int, int]:
        (newest,) = conn.execute(
            "SELECT count(*) FROM messages WHERE date >= ?", (self.newest_date,)
        ).fetchone()
        (bodies,) = conn.execute("SELECT count(*) FROM bodies").fetchone()
        return newest, bodies

    def note(self, newest: int, bodies: int, at: float) -> None:
        if newest >= min(NEWEST, self.n) and self.newest != self.newest:
            self.newest = at - self.started
        if bodies >= self.n and self.bodies != self.bodies:
            self.bodies = at - self.started
            self.download_kb = self.peak_kb[0]

    def run(self) -> None:
        conn: sqlite3.Connection | None = None
        while not self.stop.is_set() and self.bodies != self.bodies:
            try:
                if conn is None:
                    if not self.db.exists():
                        raise sqlite3.OperationalError("not there yet")
                    conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.05)
                self.note(*self.counts(conn), time.perf_counter())
            except sqlite3.Error:  # not created yet, or its tables not yet
                if conn is not None:
                    conn.close()
                    conn = None
            time.sleep(0.02 if self.newest != self.newest else 0.05)
        if conn is not None:
            conn.close()

    def final(self, exited: float) -> None:
        """After the process exited: what the polls missed counts at the exit time."""
        self.stop.set()
        self.join()
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            self.note(*self.counts(conn), exited)
        finally:
            conn.close()


def run_mailtui(
    env: dict[str, str], n: int, newest_date: int
) -> tuple[float, float, float, float, float]:
    """(newest_500_s, all_bodies_s, exit_s, peak RSS in MB, peak RSS until all bodies were
    in) of one ``mailtui sync --once``."""
    started = time.perf_counter()
    proc, peak_kb, hwm = start_sync_once(env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    db = Path(env["MAILTUI_DATA_DIR"]) / "mail.sqlite"
    watch = StoreWatch(db, n, newest_date, started, peak_kb)
    watch.start()
    assert proc.stderr is not None
    err = proc.stderr.read()  # until it exits (progress is on stdout, dropped)
    code = reap(proc, hwm)
    exited = time.perf_counter()
    if code != 0:
        watch.stop.set()
        raise MailtuiFailed(f"mailtui sync --once failed ({code}): {_one_line(err)}")
    watch.final(exited)
    peak = peak_kb[0] / 1024
    return watch.newest, watch.bodies, exited - started, peak, watch.download_kb / 1024 or peak


def exported(env: dict[str, str], target: Path) -> list[bytes]:
    """Every message of mailtui's store, through ``mailtui export --maildir``."""
    p = subprocess.run(
        [sys.executable, "-m", "mailtui", "export", "--account", "bench", "--maildir",
         str(target)],
        capture_output=True, text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if p.returncode != 0:
        raise MailtuiFailed(f"mailtui export failed ({p.returncode}): {_one_line(p.stderr)}")
    return maildir_messages(target)


def maildir_messages(root: Path) -> list[bytes]:
    """The message files of every Maildir under ``root`` (cur/ and new/)."""
    return [
        f.read_bytes()
        for sub in ("cur", "new")
        for d in root.rglob(sub)
        if d.is_dir()
        for f in d.iterdir()
        if f.is_file()
    ]


# ---------------------------------------------------------------------- mpop
def mpop_rc(d: DovecotServer, target: Path) -> Path:
    """An mpop configuration (mode 0600) that delivers into ``target``/maildir."""
    maildir = target / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    rc = target / "mpoprc"
    rc.write_text(
        f"account {USER}\nhost {d.host}\nport {d.pop3_port}\ntls off\nauth user\n"
        f"user {USER}\npassword {PASSWORD}\nuidls_file {target / 'uidls'}\n"
        f"delivery maildir {maildir}\nkeep on\nreceived_header off\nkillsize off\n"
    )
    rc.chmod(0o600)
    return rc


def run_mpop(rc: Path) -> float:
    started = time.perf_counter()
    p = subprocess.run(["mpop", "-C", str(rc), "-q", USER], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"mpop failed ({p.returncode}): {p.stderr[-2000:]}")
    return time.perf_counter() - started


# ---------------------------------------------------------------------- checks
def check(name: str, got: list[bytes], expected: Counter[str]) -> str | None:
    """None when ``got`` is exactly the expected messages, each once; else what differs."""
    have = Counter(digest(raw) for raw in got)
    if have == expected:
        return None
    missing = sum((expected - have).values())
    extra = sum((have - expected).values())
    return f"{name}: {missing} of the server's messages missing, {extra} not the server's"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="timed downloads of each client")
    args = parser.parse_args()
    n: int = args.n
    compile_mailtui()
    has_mpop = shutil.which("mpop") is not None
    figures: list[tuple[str, float | int, str]] = [
        ("messages", n, "count"),
        ("runs", args.runs, "count"),
    ]
    problems: list[str] = []
    with mailgen.searchable_tempdir() as tmp:
        base = Path(tmp)
        clients = base / "clients"  # what the clients write; the server's files are apart
        clients.mkdir()
        tls = make_self_signed_cert(base / "tls")
        with DovecotServer(tls, base_dir=base / "dovecot") as d:
            d.add_user(USER, PASSWORD)
            d.deliver_many(USER, generated(n))
            # The server's copies, as Dovecot holds them: what every client must store.
            files = d.maildir(USER).message_files()
            server = Counter(digest(f.read_bytes()) for f in files)
            server_lf = Counter(digest(f.read_bytes().replace(b"\r\n", b"\n")) for f in files)
            dates = sorted(
                int(parsedate_to_datetime(_header(f.read_bytes(), b"Date")).timestamp())
                for f in files
            )
            newest_date = dates[-min(NEWEST, n)]
            (base / "config.toml").write_text(config_text(d))
            env = {**os.environ, "MAILTUI_CONFIG": str(base / "config.toml")}

            def mailtui_target(name: str) -> dict[str, str]:
                return {
                    **env,
                    "MAILTUI_DATA_DIR": str(clients / f"{name}-data"),
                    "MAILTUI_STATE_DIR": str(clients / f"{name}-state"),
                }

            def mpop_target(name: str) -> Path:
                return mpop_rc(d, clients / f"{name}-mpop")

            d.doveadm("index", "-u", USER, "INBOX", check=False)
            runs: list[tuple[float, float, float, float, float]] = []
            mpop_runs: list[float] = []
            failed: str | None = None
            try:
                # Untimed warm-ups (the server's caches), then the timed runs in turns.
                run_mailtui(mailtui_target("warm"), n, newest_date)
            except MailtuiFailed as exc:
                failed = str(exc)
            if has_mpop:
                run_mpop(mpop_target("warm"))
            for r in range(args.runs):
                if failed is None:
                    settle(clients)
                    try:
                        runs.append(run_mailtui(mailtui_target(f"run{r}"), n, newest_date))
                    except MailtuiFailed as exc:
                        failed = str(exc)
                if has_mpop:
                    rc = mpop_target(f"run{r}")
                    settle(clients)
                    mpop_runs.append(run_mpop(rc))
            if failed is None and runs:
                newest, bodies, exit_s = (
                    statistics.median(run[i] for run in runs) for i in range(3)
                )
                synced = mailtui_target("run0")
                resync_runs = []
                try:
                    resync_runs = [run_mailtui(synced, n, newest_date) for _ in range(2)]
                except MailtuiFailed as exc:
                    failed = str(exc)
                figures += [
                    ("newest_500_s", newest, "s"),
                    ("all_bodies_s", bodies, "s"),
                    ("sync_exit_s", exit_s, "s"),
                ]
                if resync_runs:
                    figures.append(("resync_s", min(run[2] for run in resync_runs), "s"))
                peak = max(run[3] for run in runs + resync_runs)
                figures.append(("peak_rss_mb", peak, "MB"))
                figures.append(("download_rss_mb", max(run[4] for run in runs), "MB"))
                if not newest < 1.0:
                    problems.append("newest 500 < 1 s")
                if not peak < 200:
                    problems.append("peak RSS < 200 MB")
            if has_mpop:
                mpop_full = statistics.median(mpop_runs)
                mpop_resync = min(run_mpop(clients / "run0-mpop" / "mpoprc") for _ in range(2))
                figures += [("mpop_full_s", mpop_full, "s"), ("mpop_resync_s", mpop_resync, "s")]
                if failed is None and runs:
                    ratio = bodies / mpop_full
                    figures.append(("full_ratio_vs_mpop", ratio, "x"))
                    if not ratio <= 1.0:
                        problems.append("full ratio <= 1.0")
            # Byte for byte, every copy either client made.
            wrong: list[str] = []
            verified = 0
            for data in sorted(clients.glob("*-data")):
                name = data.name.removesuffix("-data")
                if failed is None:
                    try:
                        got = exported(mailtui_target(name), clients / f"{name}-export")
                    except MailtuiFailed as exc:
                        wrong.append(f"mailtui {name}: {exc}")
                        continue
                    if (why := check(f"mailtui {name}", got, server)) is not None:
                        wrong.append(why)
                    verified += 1
            for target in sorted(clients.glob("*-mpop")):
                got = maildir_messages(target / "maildir")
                if (why := check(f"mpop {target.name}", got, server_lf)) is not None:
                    wrong.append(why)
                verified += 1
    for name, value, unit in figures:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name}: {shown} {unit}")
    if failed is not None:
        problems.append(f"mailtui could not download the mailbox: {failed}")
    if wrong:
        problems.append("copies not byte for byte the server's: " + "; ".join(wrong))
    note = "" if has_mpop else "; mpop not installed (scripts/install-bench-deps.sh), no ratio"
    print(
        f"verdict: {'FAIL' if problems else 'PASS'} at N={n} over plain POP3"
        + (f" (missed: {', '.join(problems)})" if problems else "")
        + (f"; {verified - len(wrong)} of {verified} copies byte for byte the server's")
        + note
    )
    return 1 if problems else 0


def _one_line(text: str) -> str:
    """The end of an error output, on one line (the verdict is one line)."""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-5:])[-1000:]


def _header(raw: bytes, name: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip().decode("ascii")
    raise ValueError(f"no {name.decode()} header")


if __name__ == "__main__":
    raise SystemExit(main())

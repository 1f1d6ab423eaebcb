"""First contact with a big mailbox: a new account's first sync and first screen, whole
processes, mailtui against neomutt and aerc in the same run (issue 17).

    python bench/first_contact.py N [--cache DIR] [--runs R] [--no-peers] [--window-only]

Starts the test harness's Dovecot (tests/servers) with N generated messages in INBOX
(bench/mailgen.py; 100,000 ≈ 4.9 GB), plain IMAP on loopback. ``--cache DIR`` keeps
that Dovecot's directory (the generated mailbox and its index) in DIR between runs, so
the mailbox is generated once per N. Then, R times (default 1), taking turns:

    all_envelopes_s   headless ``mailtui sync --once`` with ``body_days = 0``, start → the
                      CLI reports N/N envelopes committed (a new account)
    envelopes_per_s   N / all_envelopes_s
    sync_exit_s       start → exit of that process
    peak_rss_mb       its peak RSS with its helper processes' (its VmHWM and their RSS,
                      polled from /proc and summed: ``sync_run.tree_hwm_kb``)
    first_screen_s    in tmux (120×40), a new account: launch → the 3 newest subjects on
                      screen
    oldest_row_s      the end key pressed right after the first screen → the oldest
                      message of the folder is a row (the key is pressed again each
                      second, as a user would, while it is not)
    tui_peak_rss_mb   the TUI's peak RSS (with its helpers') until then
                      (``--window-only``: that TUI does not fetch the oldest screen
                      second, so the end key is served by the window on demand alone)
    cached_open_s     launch again on the cache the headless sync left → 3 newest subjects

The same open, end-key and cached-open figures for neomutt and aerc when installed
(scripts/install-bench-deps.sh), each timed run of a client after the other's, and the
ratios. Figures are medians over the runs. Targets at 100,000 (issue 17): first screen ≤
aerc's cold open, oldest row < 1 s after the key, all envelopes ≤ neomutt's cold open,
peak RSS < 100 MB, cached open ≤ aerc's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import mailgen  # noqa: E402
from sync_run import compile_mailtui, reap, start_sync_once, tree_hwm_kb  # noqa: E402

from tests.servers import DovecotServer, make_self_signed_cert  # noqa: E402

USER, PASSWORD = "bench", "bench-secret"
#: ``--window-only``: mailtui with the IMAP first pass's oldest screen not fetched early.
WINDOW_ONLY = (
    "import sys, mailtui.protocols.imap.pull as pull; pull.OLDEST_EARLY = False; "
    "from mailtui.cli import main; sys.exit(main())"
)
WIDTH, HEIGHT = 120, 40
TIMEOUT = 900.0


def mailtui_config(d: DovecotServer) -> str:
    return (
        "[accounts.bench]\n"
        'kind = "imap"\n'
        f'email = "{USER}@{d.domain}"\n'
        f'username = "{USER}"\n'
        f'host = "{d.host}"\n'
        f"port = {d.imap_port}\n"
        'security = "none"\n'
        f"password_command = \"printf '%s' {PASSWORD}\"\n"
        "body_days = 0\n"
    )


@contextlib.contextmanager
def big_inbox(n: int, cache: Path | None, base: Path) -> Iterator[DovecotServer]:
    """The harness Dovecot with ``n`` generated messages in the INBOX of USER; with
    ``cache``, its directory (mailbox and index) is kept in ``cache/dovecot-N`` and the
    mailbox generated only once per N."""
    if cache:
        server_dir = (cache / f"dovecot-{n}").resolve()
        server_dir.parent.mkdir(parents=True, exist_ok=True)
        Path(cache).chmod(0o755)
    else:
        server_dir = base / "dovecot"
    tls = make_self_signed_cert(base / "tls")
    with DovecotServer(tls, base_dir=server_dir, keep_dir=True) as d:
        marker = server_dir / "mailgen.done"
        d.add_user(USER, PASSWORD)
        if not marker.exists():
            d.deliver_many(USER, mailgen.messages(n))
            d.doveadm("index", "-u", USER, "INBOX", check=False)
            marker.write_text(str(n))
        yield d


def headless(env: dict[str, str], n: int) -> tuple[float, float, float]:
    """(all_envelopes_s, exit_s, peak RSS MB) of one ``mailtui sync --once``."""
    started = time.perf_counter()
    proc, peak_kb, watcher = start_sync_once(env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    everything = float("nan")
    count = 0
    for line in proc.stdout:
        if "messages (" in line and ": +" in line:
            count += int(line.split(": +", 1)[1].split()[0].replace(",", ""))
            if count >= n and everything != everything:
                everything = time.perf_counter() - started
    code = reap(proc, watcher)
    total = time.perf_counter() - started
    if code != 0:
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"mailtui sync failed: {err[-2000:]}")
    return everything, total, peak_kb[0] / 1024


class Tui:
    """One client in a tmux session of its own; the screen read every 50 ms."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.session = f"bench-{uuid.uuid4().hex[:8]}"
        setting = " ".join(f"{k}='{v}'" for k, v in env.items())
        command = f"exec env {setting} " + " ".join(f"'{a}'" for a in argv)
        self.started = time.perf_counter()
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                str(WIDTH),
                "-y",
                str(HEIGHT),
                command,
            ],
            check=True,
            env={**os.environ, "TMUX": ""},
        )
        self.pid = int(self._tmux("display-message", "-p", "-t", self.session, "#{pane_pid}"))
        self.peak_kb = 0

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout.strip()

    def screen(self) -> str:
        self._poll_rss()
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def _poll_rss(self) -> None:
        self.peak_kb = max(self.peak_kb, tree_hwm_kb(self.pid))

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def wait(self, shown: Callable[[str], bool], again: str | None = None) -> float:
        """Seconds until ``shown(screen)``; ``again``: a key pressed once a second."""
        start = time.perf_counter()
        pressed = start
        while time.perf_counter() - start < TIMEOUT:
            if shown(self.screen()):
                return time.perf_counter() - start
            time.sleep(0.05)
            if again is not None and time.perf_counter() - pressed >= 1.0:
                self.keys(again)
                pressed = time.perf_counter()
        raise SystemExit(f"the screen never showed it; last screen:\n{self.screen()}")

    def close(self) -> None:
        self._tmux("kill-session", "-t", self.session)
        time.sleep(0.3)


def newest(n: int) -> Callable[[str], bool]:
    subjects = [re.compile(rf"#{i}(?!\d)") for i in (n, n - 1, n - 2) if i > 0]
    return lambda screen: all(s.search(screen) for s in subjects)


OLDEST = re.compile(r"#1(?!\d)")


def tui_run(
    argv: list[str], env: dict[str, str], n: int, end_key: str, cold: bool
) -> tuple[float, float, float]:
    """(open_s, oldest_row_s or nan, peak RSS MB) of one client in tmux."""
    tui = Tui(argv, env)
    try:
        tui.wait(newest(n))
        opened = time.perf_counter() - tui.started
        oldest = float("nan")
        if cold:
            tui.keys(end_key)
            oldest = tui.wait(lambda s: bool(OLDEST.search(s)), again=end_key)
        return opened, oldest, tui.peak_kb / 1024
    finally:
        tui.close()


def neomutt_argv(d: DovecotServer, home: Path) -> list[str]:
    (home / "hcache").mkdir(parents=True, exist_ok=True)
    rc = home / "neomuttrc"
    rc.write_text(
        f'set folder="imap://{USER}@127.0.0.1:{d.imap_port}/"\nset spoolfile="+INBOX"\n'
        f'set imap_user="{USER}"\nset imap_pass="{PASSWORD}"\nset ssl_starttls=no\n'
        f'set ssl_force_tls=no\nset header_cache="{home}/hcache/"\n'
        "set imap_check_subscribed=no\nset mail_check=0\nset mark_old=no\n"
        "set sort=reverse-date\n"
    )
    return ["neomutt", "-n", "-F", str(rc)]


def aerc_env(d: DovecotServer, home: Path) -> dict[str, str]:
    conf = home / "config" / "aerc"
    conf.mkdir(parents=True, exist_ok=True)
    (home / "cache").mkdir(exist_ok=True)
    (conf / "aerc.conf").write_text("")
    accounts = conf / "accounts.conf"
    accounts.write_text(
        f"[bench]\nsource = imap+insecure://{USER}:{PASSWORD}@127.0.0.1:{d.imap_port}\n"
        f"outgoing = /bin/true\ndefault = INBOX\nfrom = Bench <{USER}@{d.domain}>\n"
        "cache-headers = true\n"
    )
    accounts.chmod(0o600)
    return {"XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--cache", type=Path, help="keep the generated mailbox here")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--window-only",
        action="store_true",
        help="the TUI's first pass without the oldest screen early (OLDEST_EARLY off): "
        "the end key is served by the window on demand alone",
    )
    args = parser.parse_args()
    n: int = args.n
    compile_mailtui()
    term = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    peers = {
        name: shutil.which(name) is not None and not args.no_peers for name in ("neomutt", "aerc")
    }
    with mailgen.searchable_tempdir() as tmp:
        base = Path(tmp)
        with big_inbox(n, args.cache, base) as d:
            (base / "config.toml").write_text(mailtui_config(d))
            env = {**os.environ, "MAILTUI_CONFIG": str(base / "config.toml"), **term}
            mailtui_argv = [str(Path(sys.executable).parent / "mailtui")]
            cold_argv = [sys.executable, "-c", WINDOW_ONLY] if args.window_only else mailtui_argv

            def data(name: str) -> dict[str, str]:
                return {
                    "MAILTUI_CONFIG": str(base / "config.toml"),
                    "MAILTUI_DATA_DIR": str(base / name / "data"),
                    "MAILTUI_STATE_DIR": str(base / name / "state"),
                    **term,
                }

            # Warm the server's cache the same way for every client: one untimed open.
            headless({**env, **data("warm")}, n)
            if peers["neomutt"]:
                tui_run(neomutt_argv(d, base / "nm-warm"), term, n, "End", cold=False)
            if peers["aerc"]:
                tui_run(["aerc"], {**term, **aerc_env(d, base / "ae-warm")}, n, "G", cold=False)
            fig: dict[str, list[float]] = {}

            def add(name: str, value: float) -> None:
                fig.setdefault(name, []).append(value)

            for r in range(args.runs):
                envs, done, rss = headless({**env, **data(f"h{r}")}, n)
                add("all_envelopes_s", envs)
                add("sync_exit_s", done)
                add("peak_rss_mb", rss)
                opened, oldest, trss = tui_run(cold_argv, data(f"t{r}"), n, "End", True)
                add("first_screen_s", opened)
                add("oldest_row_s", oldest)
                add("tui_peak_rss_mb", trss)
                add("cached_open_s", tui_run(mailtui_argv, data(f"h{r}"), n, "End", False)[0])
                if peers["neomutt"]:
                    nm = neomutt_argv(d, base / f"nm{r}")
                    opened, oldest, trss = tui_run(nm, term, n, "*", True)  # last-entry
                    add("neomutt_open_s", opened)
                    add("neomutt_oldest_row_s", oldest)
                    add("neomutt_peak_rss_mb", trss)
                    add("neomutt_cached_open_s", tui_run(nm, term, n, "End", False)[0])
                if peers["aerc"]:
                    ae = {**term, **aerc_env(d, base / f"ae{r}")}
                    opened, oldest, trss = tui_run(["aerc"], ae, n, "G", True)
                    add("aerc_open_s", opened)
                    add("aerc_oldest_row_s", oldest)
                    add("aerc_peak_rss_mb", trss)
                    add("aerc_cached_open_s", tui_run(["aerc"], ae, n, "G", False)[0])
    figures = {k: (max(v) if "rss" in k else statistics.median(v)) for k, v in fig.items()}
    figures["envelopes_per_s"] = n / figures["all_envelopes_s"]
    print(f"messages: {n} count\nruns: {args.runs} count")
    for name, value in figures.items():
        unit = "MB" if "rss" in name else ("1/s" if name.endswith("per_s") else "s")
        print(f"{name}: {value:.3f} {unit}")
    checks = {
        "oldest row < 1 s": figures["oldest_row_s"] < 1.0,
        "peak RSS < 100 MB": max(figures["peak_rss_mb"], figures["tui_peak_rss_mb"]) < 100,
    }
    if "aerc_open_s" in figures:
        first = figures["first_screen_s"] / figures["aerc_open_s"]
        cached = figures["cached_open_s"] / figures["aerc_cached_open_s"]
        print(f"first_screen_ratio_vs_aerc: {first:.3f} x")
        print(f"cached_open_ratio_vs_aerc: {cached:.3f} x")
        checks["first screen <= aerc's open"] = figures["first_screen_s"] <= figures["aerc_open_s"]
        checks["cached open <= aerc's"] = figures["cached_open_s"] <= figures["aerc_cached_open_s"]
    if "neomutt_open_s" in figures:
        ratio = figures["all_envelopes_s"] / figures["neomutt_open_s"]
        print(f"all_envelopes_ratio_vs_neomutt_open: {ratio:.3f} x")
        checks["all envelopes <= neomutt's open"] = ratio <= 1.0
    failed = [k for k, ok in checks.items() if not ok]
    missing = [k for k, ok in peers.items() if not ok]
    print(
        f"verdict: {'FAIL' if failed else 'PASS'} at N={n}"
        + (f" (missed: {', '.join(failed)})" if failed else "")
        + (f"; not run: {', '.join(missing)} (scripts/install-bench-deps.sh)" if missing else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

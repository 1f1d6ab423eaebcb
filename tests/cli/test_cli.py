"""The real `mailtui` entry point in a subprocess: help, version, errors without
tracebacks, headless sync, export byte for byte, and a crash in the middle of a sync."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mailtui

ROOT = Path(__file__).resolve().parents[2]


def run(
    args: list[str], data: Path, *, timeout: float = 120, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(data / "data"),
        "MAILTUI_STATE_DIR": str(data / "state"),
        "MAILTUI_CONFIG": str(data / "config.toml"),
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def no_traceback(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stderr + p.stdout


def test_help_and_version(tmp_path: Path) -> None:
    p = run(["--help"], tmp_path)
    assert p.returncode == 0
    for word in ("--demo", "--config", "sync", "export"):
        assert word in p.stdout
    p = run(["--version"], tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == f"mailtui {mailtui.__version__}"


def test_config_typo_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[accounts.work]\nkind = "imap"\nemail = "me@example.com"\nhots = "imap.example.com"\n'
    )
    p = run(["sync", "--once"], tmp_path)
    assert p.returncode == 2
    no_traceback(p)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "config.toml" in lines[0] and "hots" in lines[0] and 'did you mean "host"' in lines[0]
    assert not (tmp_path / "data" / "mail.sqlite").exists()  # nothing started


def test_missing_explicit_config(tmp_path: Path) -> None:
    p = run(["--config", str(tmp_path / "nope.toml"), "sync"], tmp_path)
    assert p.returncode == 1 and "no such config file" in p.stderr
    no_traceback(p)


def test_no_accounts_says_what_to_do(tmp_path: Path) -> None:
    p = run(["sync", "--once"], tmp_path)
    assert p.returncode == 1 and "no accounts configured" in p.stderr
    assert "mailtui setup --email ADDRESS --non-interactive" in p.stderr
    no_traceback(p)
    p = run([], tmp_path)  # the UI: nothing to show yet
    assert p.returncode == 1 and "no accounts configured" in p.stderr
    assert "mailtui setup --email ADDRESS --non-interactive" in p.stderr
    assert "mailtui --demo" in p.stderr
    no_traceback(p)


def test_newer_database_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "data" / "demo" / "mail.sqlite"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    p = run(["--demo", "sync", "--once"], tmp_path)
    assert p.returncode == 1
    no_traceback(p)
    assert "newer" in p.stderr and str(db) in p.stderr
    with sqlite3.connect(db) as conn:  # left as it was
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 999


def test_garbage_database_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "data" / "demo" / "mail.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    p = run(["--demo", "sync", "--once"], tmp_path)
    assert p.returncode == 1
    no_traceback(p)
    assert str(db) in p.stderr


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo")
    p = run(["--demo", "sync", "--once"], home)
    assert p.returncode == 0, p.stderr
    assert "demo: online: in step" in p.stdout
    # Each state is said once: "demo: connecting", not "demo: connecting: connecting".
    assert "demo: connecting\n" in p.stdout and "connecting: connecting" not in p.stdout
    return home


def _server_raws(home: Path) -> dict[str, set[bytes]]:
    out: dict[str, set[bytes]] = {}
    with sqlite3.connect(home / "data" / "demo" / "server.sqlite") as db:
        for folder, raw in db.execute("SELECT folder, raw FROM messages"):
            out.setdefault(folder, set()).add(bytes(raw))
    return out


def test_sync_once_then_private_files(synced: Path) -> None:
    data = synced / "data"
    assert (data.stat().st_mode & 0o777) == 0o700
    assert ((data / "demo" / "mail.sqlite").stat().st_mode & 0o777) == 0o600


def test_export_maildir_byte_for_byte(synced: Path, tmp_path: Path) -> None:
    # Bodies outside the 30-day window are not cached yet: fetch them all via sync first.
    target = tmp_path / "md"
    p = run(["--demo", "export", "--account", "demo", "--maildir", str(target)], synced)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported ")
    server = _server_raws(synced)
    inbox_files = list((target / "INBOX" / "cur").iterdir())
    assert inbox_files
    for f in inbox_files:
        assert f.read_bytes() in server["INBOX"]
        assert ":2," in f.name
    assert (target / "Lists" / "python-dev" / "cur").is_dir()


def test_export_mbox_round_trips(synced: Path, tmp_path: Path) -> None:
    import mailbox

    target = tmp_path / "INBOX.mbox"
    p = run(
        ["--demo", "export", "--account", "demo", "--folder", "INBOX", "--mbox", str(target)],
        synced,
    )
    assert p.returncode == 0, p.stderr
    written = int(p.stdout.split()[1])
    assert written > 0
    assert len(mailbox.mbox(target)) == written
    again = run(
        ["--demo", "export", "--account", "demo", "--folder", "INBOX", "--mbox", str(target)],
        synced,
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    no_traceback(again)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common 022: what mailtui writes must be private all the same."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_export_needs_no_account_with_one_and_writes_private_files(
    synced: Path, tmp_path: Path, open_umask: None
) -> None:
    log = synced / "state" / "mailtui.log"
    log.chmod(0o644)  # left wide by an older version: tightened when opened
    target = tmp_path / "all.mbox"
    p = run(["--demo", "export", "--mbox", str(target)], synced)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported ")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.stat().st_mode) == 0o600

    maildir = tmp_path / "backup" / "md"
    p = run(["--demo", "export", "--folder", "Lists/python-dev", "--maildir", str(maildir)], synced)
    assert p.returncode == 0, p.stderr
    files = list((maildir / "Lists" / "python-dev" / "cur").iterdir())
    assert files
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    for d in (maildir, maildir / "Lists", maildir / "Lists" / "python-dev"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_fresh_log_file_is_private(tmp_path: Path, open_umask: None) -> None:
    run(["sync", "--once"], tmp_path)  # fails (no accounts), the log is opened all the same
    assert stat.S_IMODE((tmp_path / "state" / "mailtui.log").stat().st_mode) == 0o600


def test_export_with_several_accounts_asks_which(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        "".join(
            f'[accounts.{name}]\nkind = "imap"\nemail = "me@{name}.example"\n'
            f'host = "imap.{name}.example"\n'
            for name in ("work", "home")
        )
    )
    target = tmp_path / "out.mbox"
    p = run(["export", "--mbox", str(target)], tmp_path)
    assert p.returncode == 1
    no_traceback(p)
    assert p.stderr.strip() == (
        "mailtui: 2 accounts are configured (work, home): say which to export with "
        "--account NAME"
    )
    assert not target.exists()


def test_export_of_an_account_never_synced_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[accounts.work]\nkind = "imap"\nemail = "me@work.example"\nhost = "imap.work.example"\n'
    )
    target = tmp_path / "out.mbox"
    p = run(["export", "--mbox", str(target)], tmp_path)
    assert p.returncode == 1
    no_traceback(p)
    assert "nothing of account 'work' is cached yet" in p.stderr and "--fetch" in p.stderr
    assert not target.exists()


def test_export_unknown_folder(synced: Path, tmp_path: Path) -> None:
    p = run(
        ["--demo", "export", "--account", "demo", "--folder", "Nope", "--mbox", str(tmp_path)],
        synced,
    )
    assert p.returncode == 1 and "has no folder 'Nope'" in p.stderr
    no_traceback(p)


def test_kill_during_sync_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "--demo", "sync", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    # Wait for the first committed batch, then kill without warning.
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if "+" in line and "messages" in line:
            break
        assert time.monotonic() < deadline
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    p = run(["--demo", "sync", "--once"], tmp_path)
    assert p.returncode == 0, p.stderr
    server = _server_raws(tmp_path)
    with sqlite3.connect(tmp_path / "data" / "demo" / "mail.sqlite") as db:
        db.execute("PRAGMA query_only = 1")
        (integrity,) = db.execute("PRAGMA integrity_check").fetchone()
        assert integrity == "ok"
        counts = dict(
            db.execute(
                "SELECT f.name, COUNT(m.id) FROM folders f JOIN messages m ON m.folder_id = f.id "
                "GROUP BY f.name"
            )
        )
        dupes = db.execute(
            "SELECT COUNT(*) FROM (SELECT folder_id, remote_id FROM messages "
            "GROUP BY folder_id, remote_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    assert dupes == 0
    assert counts == {k: len(v) for k, v in server.items()}


def test_folder_of_broken_messages_syncs_and_exports_without_a_traceback(tmp_path: Path) -> None:
    from mailtui.protocols.demo.backend import DemoServer

    demo = tmp_path / "data" / "demo"
    demo.mkdir(parents=True)
    server = DemoServer(demo / "server.sqlite", count=20)
    broken = sorted((ROOT / "tests" / "data" / "malformed").glob("*.eml"))
    assert len(broken) >= 10
    now = int(time.time())
    for path in broken:
        server.deliver("Junk", path.read_bytes(), now)
    server.close()

    p = run(["--demo", "sync", "--once"], tmp_path)
    assert p.returncode == 0, p.stderr
    no_traceback(p)

    target = tmp_path / "junk"
    args = ["--demo", "export", "--account", "demo", "--folder", "Junk", "--maildir", str(target)]
    p = run(args, tmp_path)
    assert p.returncode == 0, p.stderr
    exported = {f.read_bytes() for f in (target / "Junk" / "cur").iterdir()}
    for path in broken:  # every broken message was kept byte for byte
        assert path.read_bytes() in exported, path.name


def test_mailto_with_a_command_is_a_usage_error(tmp_path: Path) -> None:
    p = run(["sync", "mailto:bob@example.org"], tmp_path)
    assert p.returncode == 2 and "takes no command" in p.stderr
    no_traceback(p)

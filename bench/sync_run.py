"""What the sync benchmarks share (imap_sync.py, pop3_sync.py, first_contact.py,
eas_sync.py): mailtui compiled as installed, and one ``mailtui sync --once`` run with its
peak memory watched."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def compile_mailtui() -> None:
    """The installed state: bytecode compiled, as `pip install` leaves it. Without this
    (an editable install under PYTHONDONTWRITEBYTECODE, as in CI) every timed process
    compiles mailtui's modules again, ~35 ms that mbsync, a compiled program, never pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "mailtui")], check=True)


def tree_hwm_kb(pid: int) -> int:
    """``pid``'s peak RSS in KB (VmHWM) plus the RSS its child processes have now
    (mailtui's helpers: the envelope parse of a first pass, the search index of a big
    download); 0 once it is gone. Polled, the largest figure is the peak memory of the
    whole tree, counting the process's own peak and shared library pages once per
    process: conservative."""
    total = 0
    pids = [pid]
    for p in pids:
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{p}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
    for p in pids:
        field = "VmHWM:" if p == pid else "VmRSS:"
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
    return total


def watch_hwm(proc: subprocess.Popen[str], peak_kb: list[int]) -> None:
    """The peak RSS of the child and its own children (``tree_hwm_kb``) until it exits.
    ``wait4``'s ``ru_maxrss`` is no use here: on Linux a child spawned by this process
    starts with this process's high-water mark (the generated mail), and ``exec`` keeps
    it."""
    status = Path(f"/proc/{proc.pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        if "State:\tZ" in text:  # exited, not reaped yet: VmHWM is gone with its memory
            return
        peak_kb[0] = max(peak_kb[0], tree_hwm_kb(proc.pid))
        time.sleep(0.02)


def start_sync_once(
    env: dict[str, str], **popen: Any
) -> tuple[subprocess.Popen[str], list[int], threading.Thread]:
    """``mailtui sync --once`` started (stderr piped; ``popen`` says the rest), and a
    thread keeping its peak RSS in KB in the list's one item (read it after `reap`)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        **popen,
    )
    peak_kb = [0]
    watcher = threading.Thread(target=watch_hwm, args=(proc, peak_kb), daemon=True)
    watcher.start()
    return proc, peak_kb, watcher


def reap(proc: subprocess.Popen[str], watcher: threading.Thread) -> int:
    """Wait for the run and its watcher; its exit code (also set as ``proc.returncode``)."""
    watcher.join()
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    return code

"""Running the test servers' daemons: as which user, what their logs say, killing them."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import threading
from pathlib import Path

from .dovecot import _descendants, _which


class SetprivMissing(RuntimeError):
    """setpriv (util-linux) is needed to run a daemon as another user."""


def run_as(user: str | None) -> list[str]:
    """The command prefix that runs a program as `user` (root only; None: as ourselves),
    with SIGTERM on our death when started from the main thread (setpriv sets the
    parent-death signal after switching user, so it survives the switch)."""
    setpriv = _which("setpriv")
    if setpriv is None:
        if user is not None:
            raise SetprivMissing("setpriv (util-linux) is needed to run servers as root")
        return []
    cmd = [setpriv]
    if user is not None:
        cmd += [f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}", "--init-groups"]
    if threading.current_thread() is threading.main_thread():
        cmd += ["--pdeathsig", "TERM"]
    return [*cmd, "--"]


def tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file, or a note that it is empty or missing."""
    try:
        text = path.read_text("utf-8", "replace").strip()
    except OSError:
        return f"--- {path.name}: (missing)"
    return f"--- {path.name}\n" + ("\n".join(text.splitlines()[-lines:]) or "(empty)")


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and everything below it, and reap it."""
    for pid in _descendants(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)

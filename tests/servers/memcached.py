"""memcached for the test servers (SOGo's cache), on 127.0.0.1 and a free port.

It runs in the foreground as our child (as `memcache` when we are root), with a
parent-death signal; `stop()` kills it (it keeps nothing worth a clean shutdown).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .ports import LOOPBACK, free_ports, listening_tcp_ports, tcp_accepts, wait_until
from .procs import kill_tree, run_as, tail

MEMCACHED = Path("/usr/bin/memcached")


class MemcachedStartError(RuntimeError):
    """memcached did not come up; the message carries its log."""


class MemcachedServer:
    """One memcached; `start()`, `stop()`, `port`. Its log is `log_dir/memcached.log`."""

    host = LOOPBACK

    def __init__(self, log_dir: Path) -> None:
        self.log_path = log_dir / "memcached.log"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        user = "memcache" if os.geteuid() == 0 else None
        for _attempt in range(3):
            (self.port,) = free_ports(1)
            with open(self.log_path, "wb") as out:
                proc = subprocess.Popen(
                    [*run_as(user), str(MEMCACHED), "-l", self.host, "-p", str(self.port),
                     "-U", "0", "-m", "64", "-c", "256"],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd="/",
                    start_new_session=True,
                )  # fmt: skip
            self._proc = proc

            def ready(proc: subprocess.Popen[bytes] = proc, port: int = self.port) -> bool:
                if proc.poll() is not None:
                    return True
                # Its own socket: another process may have taken the port meanwhile.
                return port in listening_tcp_ports([proc.pid]) and tcp_accepts(self.host, port)

            if wait_until(ready, 10) and proc.poll() is None:
                return
            self.stop()
        raise MemcachedStartError(f"memcached did not start:\n{tail(self.log_path)}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            kill_tree(proc)

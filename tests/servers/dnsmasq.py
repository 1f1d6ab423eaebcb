"""A real DNS server for tests: dnsmasq (Debian `dnsmasq-base`) on 127.0.0.1, a free port,
answering only for the records it is given (authoritative for `.test`: anything else
there is NXDOMAIN; no upstream server, so nothing leaves the machine).

    dns = DnsServer(
        srv=["_imaps._tcp.example.test,imap.example.test,10993,0,0"],   # --srv-host
        mx=["example.test,aspmx.l.google.com,10"],                       # --mx-host
        hosts=["imap.example.test,127.0.0.1"],                           # --host-record
    )
    dns.start(); dns.address   # "127.0.0.1:PORT" for Options(dns=...) / --dns
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .ports import LOOPBACK, free_ports, wait_until


class DnsmasqNotInstalled(RuntimeError):
    pass


class DnsServer:
    def __init__(
        self,
        *,
        srv: Sequence[str] = (),
        mx: Sequence[str] = (),
        hosts: Sequence[str] = (),
        zone: str = "test",
    ) -> None:
        self.srv, self.mx, self.hosts, self.zone = list(srv), list(mx), list(hosts), zone
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self) -> None:
        binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not Path(binary).exists():
            raise DnsmasqNotInstalled("dnsmasq is not installed: run scripts/install-test-deps.sh")
        self._dir = Path(tempfile.mkdtemp(prefix="mailtui-dns-"))
        for _ in range(5):  # a free port may be taken before dnsmasq binds it: try another
            self.port = free_ports(1)[0]
            cmd = [
                binary,
                "--keep-in-foreground",
                f"--port={self.port}",
                f"--listen-address={LOOPBACK}",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                f"--pid-file={self._dir / 'dnsmasq.pid'}",
                f"--local=/{self.zone}/",
                "--log-facility=-",
            ]
            cmd += [f"--srv-host={s}" for s in self.srv]
            cmd += [f"--mx-host={m}" for m in self.mx]
            cmd += [f"--host-record={h}" for h in self.hosts]
            log = open(self._dir / "dnsmasq.log", "ab")  # noqa: SIM115 (the process keeps it)
            proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            self._proc = proc
            log.close()
            started = wait_until(lambda p=proc: p.poll() is not None or self._answers(), 10)
            if started and proc.poll() is None:
                return
            self.stop(keep_dir=True)
        raise RuntimeError(f"dnsmasq did not start: {self.log()}")

    def _answers(self) -> bool:
        import dns.exception
        import dns.resolver

        r = dns.resolver.Resolver(configure=False)
        r.nameservers, r.port, r.lifetime = [LOOPBACK], self.port, 0.5
        try:
            r.resolve(f"ready.{self.zone}", "A")
        except dns.resolver.NXDOMAIN:
            return True  # it answered
        except dns.exception.DNSException:
            return False
        return True

    def log(self) -> str:
        if self._dir is None or not (self._dir / "dnsmasq.log").exists():
            return ""
        return (self._dir / "dnsmasq.log").read_text(errors="replace")[-2000:]

    def stop(self, *, keep_dir: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if not keep_dir and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> DnsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

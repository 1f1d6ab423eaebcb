"""A private Dovecot (IMAP, POP3, LMTP) for integration tests, on 127.0.0.1 only.

Everything lives in one directory (a fresh temp dir by default):

    dovecot.conf   generated config; nothing in /etc/dovecot is read
    passwd.d/NAME  one passwd-file per user (see `_write_user_file` for why)
    run/           base_dir: master.pid, login/ chroot, the LMTP socket run/lmtp
    state/         state_dir
    log/dovecot.log
    home/NAME/Maildir   one Maildir++ tree per user (see maildir.py for the layout)

Listeners: IMAP (plain + STARTTLS), IMAPS, POP3 (plain + STLS), POP3S on free ports of
127.0.0.1, and LMTP on the unix socket `lmtp_socket` (the test SMTP server delivers
through it). The system Dovecot service and its ports are never touched.

Running as root (this machine, CI): Dovecot refuses uid 0 for mail, so mail files belong
to `nobody` (the Maildir helpers chown what they write), login processes run as
`dovenull` in a chroot and internal ones as `dovecot`; every parent of the directory must
be searchable by them (checked at start). As another user, everything runs as that user
with chroot disabled.

Dovecot runs in the foreground (`dovecot -F`) as our child, in its own session, with a
parent-death signal when started from the main thread, so a killed test run does not
leave it behind; `stop()` terminates it and waits for every process it had forked.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType

from . import logfile
from .maildir import Flags, Maildir
from .ports import (
    LOOPBACK,
    free_ports,
    listening_tcp_ports,
    tcp_accepts,
    unix_greets,
    wait_until,
)
from .tls import TLSFiles

INSTALL_HINT = "run `scripts/install-test-deps.sh` (as root, or with sudo) to install it"
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
SPECIAL_USE_FOLDERS = {
    "Drafts": "\\Drafts",
    "Sent": "\\Sent",
    "Trash": "\\Trash",
    "Junk": "\\Junk",
    "Archive": "\\Archive",
}
DEFAULT_DOMAINS = ("mailtui.test", "localhost")


class DovecotNotInstalled(RuntimeError):
    """The dovecot binaries (or its system users) are missing on this machine."""


class DovecotStartError(RuntimeError):
    """Dovecot did not come up; the message carries the end of its logs."""


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN_DIRS:
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_dovecot() -> tuple[str, str]:
    """Paths of the `dovecot` and `doveadm` binaries, or DovecotNotInstalled."""
    dovecot, doveadm = _which("dovecot"), _which("doveadm")
    if dovecot is None or doveadm is None:
        raise DovecotNotInstalled(f"Dovecot is not installed: {INSTALL_HINT}")
    for proto in ("imap", "pop3", "lmtp"):
        if not Path("/usr/lib/dovecot", proto).exists():
            raise DovecotNotInstalled(f"Dovecot's {proto} server is not installed: {INSTALL_HINT}")
    return dovecot, doveadm


class DovecotServer:
    """One private Dovecot instance; a context manager (`with DovecotServer(tls) as d:`).

    Attributes after `start()`: host, imap_port, imaps_port, pop3_port, pop3s_port,
    lmtp_socket, conf_path, log_path, base_dir, ca_path, domain.
    """

    host = LOOPBACK

    def __init__(
        self,
        tls: TLSFiles,
        base_dir: Path | None = None,
        *,
        allow_plaintext_auth: bool = True,
        domains: Sequence[str] = DEFAULT_DOMAINS,
        max_userip_connections: int = 200,
        auth_delays: bool = False,
        keep_dir: bool = False,
        extra_config: str = "",
        oauth2_introspection_url: str | None = None,
    ) -> None:
        """Prepare (not start) an instance.

        allow_plaintext_auth: `disable_plaintext_auth = no` when true. When false,
            Dovecot still allows plain-text LOGIN on a connection whose client and
            server address are equal (127.0.0.1 to 127.0.0.1 counts as secure); connect
            from another loopback address (127.0.0.2) to see LOGINDISABLED.
        domains: mail domains whose addresses are local users (the first one is used
            for users' email addresses).
        auth_delays: keep Dovecot's delay after a failed login (2 s) and its growing
            per-IP penalty (up to 15 s). Off by default: every test connects from
            127.0.0.1, and one test's wrong password would slow down the next ones.
        keep_dir: leave the directory (logs, mail) in place after `stop()`; also set by
            the environment variable MAILTUI_KEEP_SERVER_DIRS=1.
        extra_config: appended verbatim to dovecot.conf.
        oauth2_introspection_url: also offer XOAUTH2 and OAUTHBEARER, checked by
            Dovecot's `oauth2` passdb against this RFC 7662 endpoint
            (`introspection_mode = post`; see oauth.OAuthTokenServer); passwords keep
            working (PLAIN/LOGIN).
        """
        self.tls = tls
        self._own_dir = base_dir is None
        self._base_dir = base_dir.resolve() if base_dir is not None else None
        self.allow_plaintext_auth = allow_plaintext_auth
        self.domains = tuple(d.lower() for d in domains)
        self.max_userip_connections = max_userip_connections
        self.auth_delays = auth_delays
        self.keep_dir = keep_dir or os.environ.get("MAILTUI_KEEP_SERVER_DIRS") == "1"
        self.extra_config = extra_config
        self.oauth2_introspection_url = oauth2_introspection_url

        self.imap_port = self.imaps_port = self.pop3_port = self.pop3s_port = 0
        self.startup_seconds = 0.0
        self._users: dict[str, str] = {}
        self._users_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dovecot_bin = ""
        self._doveadm_bin = ""

        self.is_root = os.geteuid() == 0
        if self.is_root:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()

    # ------------------------------------------------------------------ paths
    @property
    def base_dir(self) -> Path:
        """The instance's directory; a fresh temp dir is made on first use."""
        if self._base_dir is None:
            self._base_dir = Path(tempfile.mkdtemp(prefix="mailtui-dovecot-")).resolve()
        return self._base_dir

    @property
    def conf_path(self) -> Path:
        return self.base_dir / "dovecot.conf"

    @property
    def oauth2_conf_path(self) -> Path:
        """The `oauth2` passdb's settings (with `oauth2_introspection_url` only)."""
        return self.base_dir / "dovecot-oauth2.conf.ext"

    @property
    def log_path(self) -> Path:
        """Dovecot's log (errors, logins, deliveries): print it when a test fails."""
        return self.base_dir / "log" / "dovecot.log"

    @property
    def lmtp_socket(self) -> Path:
        return self.base_dir / "run" / "lmtp"

    @property
    def passwd_dir(self) -> Path:
        return self.base_dir / "passwd.d"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def domain(self) -> str:
        return self.domains[0]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def home(self, user: str) -> Path:
        return self.base_dir / "home" / user

    def maildir(self, user: str) -> Maildir:
        """The user's Maildir tree, writing files as the mail user."""
        owner = (self.mail_uid, self.mail_gid) if self.is_root else (None, None)
        return Maildir(self.home(user) / "Maildir", *owner)

    def email(self, user: str) -> str:
        return f"{user}@{self.domain}"

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 20.0) -> None:
        """Start Dovecot and wait until every listener accepts connections."""
        if self.running:
            return
        self._dovecot_bin, self._doveadm_bin = find_dovecot()
        if self.is_root:
            for system_user in ("dovecot", "dovenull"):
                try:
                    pwd.getpwnam(system_user)
                except KeyError:
                    raise DovecotNotInstalled(
                        f"system user {system_user!r} is missing: {INSTALL_HINT}"
                    ) from None
        started = time.monotonic()
        self._prepare_dirs()
        last_error: DovecotStartError | None = None
        for _attempt in range(3):
            try:
                self._start_once(timeout)
            except DovecotStartError as exc:
                last_error = exc
                # Another process may have taken one of the free ports in between.
                if "Address already in use" in str(exc):
                    continue
                break
            self.startup_seconds = time.monotonic() - started
            _RUNNING.add(self)
            return
        self.stop()
        assert last_error is not None
        raise last_error

    def stop(self, *, graceful: bool = True) -> None:
        """Stop Dovecot and every process it forked; remove the directory unless kept.

        graceful=False SIGKILLs at once instead of Dovecot's clean shutdown (about a
        second), for callers that throw the mail away anyway.
        """
        self._terminate(graceful=graceful)
        if self._own_dir and not self.keep_dir and self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None

    def restart(self, *, graceful: bool = True, timeout: float = 20.0) -> None:
        """Stop and start again on the same ports, keeping users and mail.

        graceful=True is a clean shutdown (clients get "* BYE Server shutting down");
        graceful=False SIGKILLs every Dovecot process first, like a crash (clients see
        the connection reset).
        """
        self._terminate(graceful=graceful)
        started = time.monotonic()
        try:
            self._start_once(timeout, new_ports=False)
        except DovecotStartError:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        _RUNNING.add(self)

    def _terminate(self, *, graceful: bool, grace: float = 1.5) -> None:
        """SIGTERM the master (Dovecot's own clean shutdown takes about a second), then
        SIGKILL whatever of its process tree is left after `grace` seconds.

        (A process the master is still forking when SIGTERM arrives can hold the
        shutdown for 5 s; the SIGKILL keeps stop() short.)
        """
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        _RUNNING.discard(self)
        family = set(_descendants(proc.pid))
        if proc.poll() is None and graceful:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
        forced = proc.poll() is None
        if forced:
            family.update(_descendants(proc.pid))
            proc.kill()
        # After a clean shutdown the children are gone or about to go (they notice the
        # master's death through their pipes); after SIGKILL, take them down too.
        if forced or not wait_until(lambda: not any(_alive(p) for p in family), 1.0):
            for p in family:
                if _alive(p):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(p, signal.SIGKILL)
        proc.wait(5)
        if not wait_until(lambda: not any(_alive(p) for p in family), 5.0):
            raise RuntimeError(f"Dovecot processes survived SIGKILL: {sorted(family)}")

    def __enter__(self) -> DovecotServer:
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
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir.chmod(0o755)
        for sub in ("run", "state", "log", "home", "passwd.d"):
            (self.base_dir / sub).mkdir(exist_ok=True)
            (self.base_dir / sub).chmod(0o755)
        if self.is_root:
            _check_searchable(self.base_dir / "home", self.mail_uid, self.mail_gid)
            dovecot_user = pwd.getpwnam("dovecot")
            _check_searchable(self.base_dir, dovecot_user.pw_uid, dovecot_user.pw_gid)

    def _start_once(self, timeout: float, *, new_ports: bool = True) -> None:
        if new_ports or not self.imap_port:
            self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port = free_ports(4)
        if self.oauth2_introspection_url:
            self.oauth2_conf_path.write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            self.oauth2_conf_path.chmod(0o644)
        self.conf_path.write_text(self._config())
        startup_log = self.base_dir / "log" / "startup.log"
        cmd = [self._dovecot_bin, "-F", "-c", str(self.conf_path)]
        setpriv = _which("setpriv")
        if setpriv and threading.current_thread() is threading.main_thread():
            # Dovecot gets SIGTERM if this process dies without stopping it. (The
            # signal follows the *thread* that started it, hence main thread only.)
            cmd = [setpriv, "--pdeathsig", "TERM", "--", *cmd]
        with open(startup_log, "wb") as out:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = self._proc

        ports = {self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port}

        def ready() -> bool:
            if proc.poll() is not None:
                return True
            # The listening sockets must be Dovecot's own: a port taken by another
            # process in the meantime would accept connections too.
            return (
                listening_tcp_ports([proc.pid]) >= ports
                and all(tcp_accepts(self.host, p) for p in ports)
                and unix_greets(self.lmtp_socket)
            )

        up = wait_until(ready, timeout)
        if proc.poll() is not None or not up:
            details = self._failure_details(startup_log)
            self._terminate(graceful=False)
            raise DovecotStartError(
                f"Dovecot did not start (exit {proc.returncode}); config {self.conf_path}, "
                f"log {self.log_path}:\n{details}"
            )

    def _failure_details(self, startup_log: Path) -> str:
        parts = []
        for path in (startup_log, self.log_path):
            if path.exists():
                text = path.read_text("utf-8", "replace").strip()
                if text:
                    parts.append(f"--- {path.name}\n" + "\n".join(text.splitlines()[-30:]))
        return "\n".join(parts) or "(no log output)"

    def log_text(self, start: int = 0) -> str:
        """Dovecot's log from byte offset `start` (see `log_size`)."""
        return logfile.log_text(self.log_path, start)

    def log_size(self) -> int:
        return logfile.log_size(self.log_path)

    # ------------------------------------------------------------------ config
    def _config(self) -> str:
        d = self.base_dir
        if self.is_root:
            users = (
                "default_login_user = dovenull\n"
                "default_internal_user = dovecot\n"
                "default_internal_group = dovecot\n"
            )
            chroot = ""
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            group = _group_name(os.getgid())
            users = (
                f"default_login_user = {me}\n"
                f"default_internal_user = {me}\n"
                f"default_internal_group = {group}\n"
            )
            chroot = "  chroot =\n"
        dh = Path("/usr/share/dovecot/dh.pem")
        dh_line = f"ssl_dh = <{dh}\n" if dh.is_file() else ""
        mailboxes = "".join(
            f"  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}\n"
            for name, flag in SPECIAL_USE_FOLDERS.items()
        )
        plaintext = "no" if self.allow_plaintext_auth else "yes"
        # First, for XOAUTH2/OAUTHBEARER only; the passwd-file passdb after it serves
        # PLAIN/LOGIN and the user lookups of LMTP (a passdb with `mechanisms` is skipped
        # for lookups without a mechanism).
        oauth = (
            "passdb {\n"
            "  driver = oauth2\n"
            "  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {self.oauth2_conf_path}\n"
            "}\n"
            if self.oauth2_introspection_url
            else ""
        )
        # An unusable anvil-auth-penalty socket turns the per-IP penalty off.
        penalty = (
            ""
            if self.auth_delays
            else ("  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n")
        )
        return f"""\
# Generated by tests/servers/dovecot.py: a private test instance, no system config.
instance_name = mailtui-test-{self.imap_port}
base_dir = {d}/run
state_dir = {d}/state
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
verbose_proctitle = yes
shutdown_clients = yes

protocols = imap pop3 lmtp
listen = {self.host}
{users}first_valid_uid = {min(self.mail_uid, 500) or 1}
first_valid_gid = 1

ssl = yes
ssl_cert = <{self.tls.cert_path}
ssl_key = <{self.tls.key_path}
{dh_line}disable_plaintext_auth = {plaintext}
auth_mechanisms = plain login{" xoauth2 oauthbearer" if oauth else ""}
auth_verbose = yes
auth_failure_delay = {"2 secs" if self.auth_delays else "0"}

{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {self.passwd_dir}/%n
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={d}/home/%n
}}

mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = {self.max_userip_connections}
postmaster_address = postmaster@{self.domain}
recipient_delimiter = +

namespace inbox {{
  inbox = yes
  separator = /
  prefix =
{mailboxes}}}

service imap-login {{
{chroot}  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
{chroot}  inet_listener pop3 {{
    address = {self.host}
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = {self.host}
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service anvil {{
{chroot}{penalty}}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
{self.extra_config}
"""

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, password: str) -> None:
        """Add (or replace) a user and create their Maildir; works while running."""
        _check_user_field("user name", name)
        _check_user_field("password", password)
        if "@" in name or "/" in name or name.startswith("."):
            raise ValueError(f"invalid user name {name!r}")
        with self._users_lock:
            replaced = name in self._users
            self._users[name] = password
            self._write_user_file(name, password, replaced)
        home = self.home(name)
        home.parent.mkdir(parents=True, exist_ok=True)
        if not home.exists():
            home.mkdir(mode=0o700)
            if self.is_root:
                os.chown(home, self.mail_uid, self.mail_gid)
        self.maildir(name).create()

    def set_password(self, name: str, password: str) -> None:
        """Change a user's password (the user keeps their mail)."""
        if name not in self._users:
            raise KeyError(name)
        self.add_user(name, password)

    def remove_user(self, name: str) -> None:
        """Remove a user from the passwd-file (their mail stays on disk)."""
        with self._users_lock:
            if self._users.pop(name, None) is not None:
                (self.passwd_dir / name).unlink(missing_ok=True)
                _wait_for_next_second()

    def has_user(self, name: str) -> bool:
        return name in self._users

    def check_password(self, login: str, password: str) -> bool:
        """What Dovecot would say to `login`/`password` (domain part ignored, as %n)."""
        name = login.partition("@")[0] if "@" in login else login
        expected = self._users.get(name)
        return expected is not None and expected == password

    def local_user_for(self, address: str) -> str | None:
        """The local user an address delivers to ("bob+tag@mailtui.test" -> "bob")."""
        local, at, domain = address.rpartition("@")
        if not at or domain.lower() not in self.domains:
            return None
        name = local.partition("+")[0]
        return name if name in self._users else None

    def is_local_domain(self, address: str) -> bool:
        return address.rpartition("@")[2].lower() in self.domains

    def _write_user_file(self, name: str, password: str, replaced: bool) -> None:
        """Write passwd.d/NAME, which Dovecot reads on the user's next login.

        Dovecot stats a passwd-file at most once per second and serves its cached copy
        in between, so one shared file would hide a user added within a second of any
        other login. With a file per user (`passwd.d/%n`), a new user's file is read
        on first use. A *changed* file is only noticed in a later second than the last
        look at it, so replacing a password waits for the next second to begin.
        """
        self.passwd_dir.mkdir(parents=True, exist_ok=True)
        path = self.passwd_dir / name
        tmp = self.passwd_dir / f".{name}.tmp"
        tmp.write_text(f"{name}:{{PLAIN}}{password}::::::\n", "utf-8")
        tmp.chmod(0o644)
        try:
            old = path.stat().st_mtime
        except FileNotFoundError:
            old = 0.0
        # The mtime must change, even for a same-size rewrite within one second.
        stamp = max(time.time(), old + 1.0)
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)
        if replaced:
            _wait_for_next_second()

    # ------------------------------------------------------------------ mail
    def create_folder(self, user: str, folder: str, *, subscribe: bool = False) -> Path:
        """Create `folder` ("Work/Projects") for `user`; IMAP LIST sees it at once."""
        path = self.maildir(user).create_folder(folder)
        if subscribe:
            self.doveadm("mailbox", "subscribe", "-u", user, folder)
        return path

    def deliver(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Flags = "",
        *,
        internaldate: datetime | float | None = None,
    ) -> Path:
        """Write one message into the user's `folder` (see maildir.Maildir.deliver)."""
        return self.maildir(user).deliver(raw, folder, flags, internaldate=internaldate)

    def deliver_many(
        self,
        user: str,
        raws: Iterable[bytes],
        folder: str = "INBOX",
        flags: Flags = "",
        *,
        internaldate: datetime | float | None = None,
    ) -> list[Path]:
        """Write many messages in order; thousands per second."""
        return self.maildir(user).deliver_many(raws, folder, flags, internaldate=internaldate)

    def save(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Store a message through Dovecot itself (`doveadm save`): UIDs assigned at once."""
        self.doveadm("save", "-u", user, "-m", folder, input=raw)

    def doveadm(
        self, *args: str, input: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `doveadm -c CONF ARGS…` against this instance (e.g. `flags add -u U …`)."""
        doveadm = self._doveadm_bin or find_dovecot()[1]
        result = subprocess.run(
            [doveadm, "-c", str(self.conf_path), *args],
            input=input,
            capture_output=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"doveadm {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.decode('utf-8', 'replace').strip()}"
            )
        return result


# ---------------------------------------------------------------------- helpers
_RUNNING: set[DovecotServer] = set()


@atexit.register
def _stop_all() -> None:
    """Last resort: stop instances a test run forgot (fixtures stop them normally)."""
    for server in list(_RUNNING):
        server.stop()


def _wait_for_next_second() -> None:
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def _check_user_field(what: str, value: str) -> None:
    if not value or any(c in value for c in ":\n\r\0"):
        raise ValueError(f"{what} must be non-empty without ':' or line breaks: {value!r}")


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _check_searchable(path: Path, uid: int, gid: int) -> None:
    """Fail early when `uid` could not reach `path` (a 0700 parent, e.g. pytest's tmp)."""
    for p in [path, *path.parents]:
        st = p.stat()
        if st.st_uid == uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid == gid:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            raise DovecotStartError(
                f"{p} is not searchable by uid {uid}, which Dovecot uses for {path}; "
                "choose a directory whose parents are all world-searchable (chmod 755)"
            )


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc), children first-level last."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != b"Z"

"""``config.toml``: typed, validated on load, never half-applied.

Every problem is a ``ConfigError`` whose text is one line naming the file, the key and
what was expected, e.g.::

    ~/.config/mailtui/config.toml: [accounts.work] port: expected a whole number from 1 to
    65535, got "imap"

The file never holds a secret: a ``password`` key is refused with a pointer to the keyring
and ``password_command``.

A check that belongs to one account kind (an Exchange account has no ``smtp`` table) is
that kind's own (``KindSpec.check``); ``mailtui.accounts.load_config`` runs both.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mailtui.auth.client import Client
from mailtui.config.oauth import client as oauth_client
from mailtui.errors import ConfigError
from mailtui.models import AccountKind, Security

__all__ = ["AccountConfig", "Config", "ConfigError", "SmtpConfig", "UiConfig", "load", "parse"]

#: password_command / token_command: a string (split like a shell) or a list of words.
Command = str | tuple[str, ...]
SECURITY_MODES = tuple(s.value for s in Security)
AUTH_MODES = ("password", "oauth2")
#: The SMTP server may also take mail without a login (a local or corporate relay).
SMTP_AUTH_MODES = (*AUTH_MODES, "none")
DEFAULT_PORTS: dict[tuple[str, str], int] = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("pop3", "tls"): 995,
    ("pop3", "starttls"): 110,
    ("pop3", "none"): 110,
    ("exchange", "tls"): 443,
    ("exchange", "starttls"): 443,
    ("exchange", "none"): 80,
    ("smtp", "tls"): 465,
    ("smtp", "starttls"): 587,
    ("smtp", "none"): 25,
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SECRET_KEYS = {"password", "pass", "secret", "token", "oauth_token", "app_password"}


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str
    password_command: Command | None = None
    # File a copy of each sent message in Sent (IMAP APPEND); false for servers that file
    # it themselves (Gmail), or the copy shows twice.
    copy_to_sent: bool = True
    # Trust: both None means the account's own ca_file / tls_fingerprint.
    ca_file: Path | None = None
    tls_fingerprint: str | None = None
    # None: the account's; "none": no login at all (a relay), no secret looked up.
    auth: str | None = None
    token_command: Command | None = None  # None: the account's


@dataclass(frozen=True, slots=True)
class AccountConfig:
    name: str
    kind: AccountKind
    email: str
    username: str
    host: str
    port: int
    security: Security
    password_command: Command | None = None
    ca_file: Path | None = None  # trust exactly this certificate (self-hosted servers)
    # Trust exactly the certificate with this SHA-256 fingerprint (64 lower-case hex
    # digits; the config accepts "sha256:AB:CD:…"): pinning, no CA or host name check.
    tls_fingerprint: str | None = None
    # "password", or "oauth2": an OAuth access token from token_command, else from the
    # sign-in stored in the keyring (`mailtui login`, refreshed with ``oauth``).
    auth: str = "password"
    token_command: Command | None = None
    # The OAuth2 client of [accounts.<name>.oauth] (mailtui.config.oauth), or None.
    oauth: Client | None = None
    display_name: str = ""
    smtp: SmtpConfig | None = None
    poll_interval: int = 300  # seconds between polls of folders without push
    body_days: int = 30  # bodies newer than this download in the background
    leave_on_server: bool = True  # POP3: False deletes after the local commit
    # POP3: delete from the server this many days after download (0: never by age).
    delete_after_days: int = 0
    # POP3: delete from the server what the user removed here for good (emptied Trash).
    delete_when_deleted_here: bool = False
    # POP3: larger messages download as their header only, whole when opened (0: no limit).
    max_message_kb: int = 0
    # POP3: log in with APOP (the password never crosses the wire, even hashed by TLS).
    apop: bool = False
    # More From addresses (name, address) besides ``email``, e.g. aliases; a reply is
    # sent from the one the message was addressed to.
    identities: tuple[tuple[str, str], ...] = ()
    # Which folders the account shows and syncs: "subscribed" (the others are listed
    # greyed), or "all" (every folder on the server, subscribed or not).
    folders: str = "subscribed"
    # Exchange: the ActiveSync endpoint; unset, https://HOST/Microsoft-Server-ActiveSync.
    url: str | None = None


#: ``folders`` of an account: the folders it shows and syncs.
FOLDER_MODES = ("subscribed", "all")
DEFAULT_THEME = "mailtui-dark"  # themes/mailtui-dark.toml
BIDI_MODES = ("auto", "on", "off")


@dataclass(frozen=True, slots=True)
class UiConfig:
    theme: str = DEFAULT_THEME
    keys: Mapping[str, str] = field(default_factory=dict)  # binding id -> key(s)
    bidi: str = "auto"  # reorder and join right-to-left text: "on", "off" (the terminal does)
    bell: bool = False  # ring the terminal bell when new mail arrives
    notify: bool = True  # show a notice when new mail arrives


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None
    accounts: tuple[AccountConfig, ...] = ()
    ui: UiConfig = field(default_factory=UiConfig)

    def account(self, name: str) -> AccountConfig:
        for acc in self.accounts:
            if acc.name == name:
                return acc
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"no account named {name!r} (accounts: {known})")


T = TypeVar("T")


class _Table:
    """Reads one TOML table, remembering which keys were used so leftovers are typos."""

    def __init__(self, where: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
        self.where = where
        self.data = data
        for key in data:
            if key in _SECRET_KEYS:
                raise ConfigError(
                    f"{where} {key}: secrets do not belong in the config file; mailtui "
                    "keeps passwords in the system keyring, or set password_command"
                )
            if key not in known:
                import difflib

                hint = difflib.get_close_matches(key, known, n=1)
                tip = f'; did you mean "{hint[0]}"?' if hint else f" (known: {', '.join(known)})"
                raise ConfigError(f"{where} unknown key {key!r}{tip}")

    def _get(self, key: str, default: T | None, expected: str, ok: Callable[[Any], bool]) -> Any:
        if key not in self.data:
            if default is None:
                raise ConfigError(f"{self.where} {key}: missing; expected {expected}")
            return default
        value = self.data[key]
        if not ok(value):
            raise ConfigError(f"{self.where} {key}: expected {expected}, got {_show(value)}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        return str(
            self._get(key, default, "a text value", lambda v: isinstance(v, str) and v != "")
        )

    def opt_text(self, key: str) -> str | None:
        if key not in self.data:
            return None
        return self.text(key)

    def opt_command(self, key: str) -> Command | None:
        """A command: a string (split like a shell) or a list of words, run without a
        shell (``mailtui.secrets.command``)."""
        if key not in self.data:
            return None
        value = self._get(
            key,
            None,
            'a command: a text, or a list of words such as ["pass", "show", "mail/work"]',
            lambda v: (isinstance(v, str) and v.strip() != "")
            or (isinstance(v, list) and v != [] and all(isinstance(w, str) and w for w in v)),
        )
        return value if isinstance(value, str) else tuple(value)

    def integer(self, key: str, default: int | None, lo: int, hi: int) -> int:
        def ok(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi

        return int(self._get(key, default, f"a whole number from {lo} to {hi}", ok))

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self._get(key, default, "true or false", lambda v: isinstance(v, bool)))

    def choice(self, key: str, default: str | None, choices: tuple[str, ...]) -> str:
        expected = "one of " + ", ".join(f'"{c}"' for c in choices)
        return str(self._get(key, default, expected, lambda v: v in choices))

    def table(self, key: str) -> Mapping[str, Any] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, dict):
            raise ConfigError(f"{self.where} {key}: expected a table, got {_show(value)}")
        return value


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_ACCOUNT_KEYS = (
    "kind", "email", "username", "host", "port", "security", "password_command", "ca_file",
    "tls_fingerprint", "auth", "token_command",
    "display_name", "smtp", "poll_interval", "body_days", "leave_on_server", "identities",
    "folders", "delete_after_days", "delete_when_deleted_here", "max_message_kb", "apop",
    "oauth", "url",
)
#: Keys only a POP3 account has.
_POP3_KEYS = ("delete_after_days", "delete_when_deleted_here", "max_message_kb", "apop")
_SMTP_KEYS = (
    "host",
    "port",
    "security",
    "username",
    "password_command",
    "copy_to_sent",
    "ca_file",
    "tls_fingerprint",
    "auth",
    "token_command",
)
_FINGERPRINT_EXPECTED = (
    'a SHA-256 certificate fingerprint such as "sha256:AB:CD:…" (64 hex digits, colons '
    "optional; `openssl x509 -noout -fingerprint -sha256 -in cert.pem` prints it)"
)
_HEX = frozenset("0123456789abcdef")


def _email(t: _Table, key: str) -> str:
    value = t.text(key)
    if "@" not in value or any(c.isspace() for c in value):
        raise ConfigError(f"{t.where} {key}: expected an email address, got {_show(value)}")
    return value


def parse_fingerprint(text: str) -> str:
    """``"sha256:AB:CD:…"`` (or the 64 hex digits alone, colons optional, any case) →
    64 lower-case hex digits. ValueError says what is wrong."""
    value = text.strip().lower()
    head, sep, rest = value.partition(":")
    if sep and not set(head) <= _HEX:  # a hash name first
        if head.replace("-", "") != "sha256":
            raise ValueError(f"{head} fingerprints are not accepted, only sha256")
        value = rest.strip()
    if ":" in value:
        pairs = value.split(":")
        if any(len(p) != 2 for p in pairs):
            raise ValueError("colons must separate pairs of hex digits")
        value = "".join(pairs)
    if not value or not set(value) <= _HEX:
        raise ValueError("only hex digits 0-9, A-F may follow sha256:")
    if len(value) == 40:
        raise ValueError("that is a SHA-1 fingerprint (40 hex digits), not SHA-256")
    if len(value) != 64:
        raise ValueError(f"a SHA-256 fingerprint has 64 hex digits, this one {len(value)}")
    return value


def _fingerprint(t: _Table, key: str) -> str | None:
    if key not in t.data:
        return None
    raw = t.data[key]
    if not isinstance(raw, str):
        raise ConfigError(f"{t.where} {key}: expected {_FINGERPRINT_EXPECTED}, got {_show(raw)}")
    try:
        return parse_fingerprint(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{t.where} {key}: {exc}; expected {_FINGERPRINT_EXPECTED}, got {_show(raw)}"
        ) from None


def _ca_file(t: _Table) -> Path | None:
    ca_text = t.opt_text("ca_file")
    ca_file = Path(ca_text).expanduser() if ca_text else None
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"{t.where} ca_file: no such file {_show(str(ca_file))}")
    return ca_file


def _trust(t: _Table, security: str) -> tuple[Path | None, str | None]:
    """(ca_file, tls_fingerprint) of one table; at most one of them."""
    ca_file = _ca_file(t)
    fingerprint = _fingerprint(t, "tls_fingerprint")
    if ca_file is not None and fingerprint is not None:
        raise ConfigError(
            f"{t.where} tls_fingerprint: set either ca_file or tls_fingerprint, not both"
        )
    if security == "none" and (ca_file is not None or fingerprint is not None):
        key = "ca_file" if ca_file is not None else "tls_fingerprint"
        raise ConfigError(f'{t.where} {key}: has no effect with security = "none"')
    return ca_file, fingerprint


def _auth(
    t: _Table, default: str, inherited_command: Command | None, modes: tuple[str, ...] = AUTH_MODES
) -> tuple[str, Command | None]:
    """(auth, token_command); a token_command without OAuth is a mistake worth naming."""
    auth = t.choice("auth", default, modes)
    command = t.opt_command("token_command") or inherited_command
    if auth == "none":
        for key in ("password_command", "token_command"):
            if key in t.data:
                raise ConfigError(
                    f'{t.where} {key}: with auth = "none" mailtui logs in to no one and '
                    f'runs no command; remove {key}, or set auth = "password" (or "oauth2") '
                    "if the server needs a login"
                )
        return auth, None
    if auth == "password" and t.opt_command("token_command"):
        raise ConfigError(f'{t.where} token_command: only used with auth = "oauth2"')
    if auth == "oauth2" and "password_command" in t.data:
        raise ConfigError(
            f'{t.where} password_command: with auth = "oauth2" mailtui needs an access '
            "token: set token_command (a command that prints one) instead"
        )
    return auth, command


def _oauth(
    where: str, t: _Table, kind: AccountKind, auth: str, smtp: SmtpConfig | None
) -> Client | None:
    """The account's OAuth2 client, for the protocols that log in with a token."""
    data = t.table("oauth")
    if data is None:
        return None
    smtp_oauth = smtp is not None and (smtp.auth or auth) == "oauth2"
    if auth != "oauth2" and not smtp_oauth:
        raise ConfigError(f'{where}: only used with auth = "oauth2"')
    if t.opt_command("token_command"):
        raise ConfigError(
            f"{where}: token_command and an oauth table are two ways to get a token; "
            "keep one"
        )
    protocols = ((kind.value,) if auth == "oauth2" else ()) + (("smtp",) if smtp_oauth else ())
    return oauth_client(where, data, protocols)


def _account(prefix: str, name: str, data: Any) -> AccountConfig:
    where = f"{prefix}[accounts.{name}]"
    if not _NAME_RE.match(name):
        raise ConfigError(
            f"{where}: account names use letters, digits, '.', '_' and '-' (up to 64)"
        )
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {_show(data)}")
    t = _Table(where, data, _ACCOUNT_KEYS)
    kinds = tuple(k.value for k in AccountKind if k is not AccountKind.DEMO)
    kind = AccountKind(t.choice("kind", None, kinds))
    email = _email(t, "email")
    security = Security(t.choice("security", "tls", SECURITY_MODES))
    port = t.integer("port", DEFAULT_PORTS[(kind.value, security)], 1, 65535)
    ca_file, fingerprint = _trust(t, security)
    auth, token_command = _auth(t, "password", None)
    if "folders" in data and kind is not AccountKind.IMAP:
        raise ConfigError(
            f"{where} folders: only IMAP accounts have folders to subscribe; remove it"
        )
    for key in _POP3_KEYS:
        if key in data and kind is not AccountKind.POP3:
            raise ConfigError(f"{where} {key}: only POP3 accounts have it; remove it")
    url = t.opt_text("url")
    if url is not None and kind is not AccountKind.EXCHANGE:
        raise ConfigError(f"{where} url: only Exchange accounts have an ActiveSync url; remove it")
    smtp: SmtpConfig | None = None
    smtp_data = t.table("smtp")
    if smtp_data is not None:
        s = _Table(f"{prefix}[accounts.{name}.smtp]", smtp_data, _SMTP_KEYS)
        s_security = Security(s.choice("security", "starttls", SECURITY_MODES))
        s_ca_file, s_fingerprint = _trust(s, s_security)
        # validated with what it inherits
        s_auth, _ = _auth(s, auth, token_command, SMTP_AUTH_MODES)
        no_login = s_auth == "none"
        smtp = SmtpConfig(
            host=s.text("host"),
            port=s.integer("port", DEFAULT_PORTS[("smtp", s_security)], 1, 65535),
            security=s_security,
            # Without a login the name is not needed, and may be empty.
            username=(
                _smtp_username(s) if no_login else s.text("username", t.text("username", email))
            ),
            password_command=None
            if no_login
            else s.opt_command("password_command") or t.opt_command("password_command"),
            copy_to_sent=s.boolean("copy_to_sent", True),
            ca_file=s_ca_file,
            tls_fingerprint=s_fingerprint,
            auth=s_auth if "auth" in smtp_data else None,
            token_command=s.opt_command("token_command"),
        )
    return AccountConfig(
        oauth=_oauth(f"{prefix}[accounts.{name}.oauth]", t, kind, auth, smtp),
        name=name,
        kind=kind,
        email=email,
        username=t.text("username", email),
        host=t.text("host", _url_host(url)),
        port=port,
        security=security,
        password_command=t.opt_command("password_command"),
        ca_file=ca_file,
        tls_fingerprint=fingerprint,
        auth=auth,
        token_command=token_command,
        display_name=t.text("display_name", "") if "display_name" in data else "",
        smtp=smtp,
        poll_interval=t.integer("poll_interval", 300, 10, 86400),
        body_days=t.integer("body_days", 30, 0, 36500),
        leave_on_server=t.boolean("leave_on_server", True),
        delete_after_days=t.integer("delete_after_days", 0, 0, 36500),
        delete_when_deleted_here=t.boolean("delete_when_deleted_here", False),
        max_message_kb=t.integer("max_message_kb", 0, 0, 4 << 20),
        apop=t.boolean("apop", False),
        identities=_identities(where, data.get("identities", [])),
        folders=t.choice("folders", "subscribed", FOLDER_MODES),
        url=url,
    )


def _url_host(url: str | None) -> str | None:
    """The host of an Exchange account's ``url``: then ``host`` may be left out."""
    if url is None:
        return None
    from urllib.parse import urlsplit  # here: config loading is start-up time

    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def _smtp_username(s: _Table) -> str:
    value = s.data.get("username", "")
    if not isinstance(value, str):
        raise ConfigError(f"{s.where} username: expected a text value, got {_show(value)}")
    return value


def _identities(where: str, value: Any) -> tuple[tuple[str, str], ...]:
    """``identities = ["Ann Smith <ann@work.example>", "ann@home.example"]``."""
    expected = 'a list of addresses such as ["Ann <ann@example.org>"]'
    if not isinstance(value, list):
        raise ConfigError(f"{where} identities: expected {expected}, got {_show(value)}")
    from email.utils import parseaddr  # here: config loading is start-up time

    out: list[tuple[str, str]] = []
    for item in value:
        name, addr = parseaddr(item) if isinstance(item, str) else ("", "")
        if "@" not in addr or any(c.isspace() for c in addr):
            raise ConfigError(f"{where} identities: expected {expected}, got {_show(item)}")
        out.append((name, addr))
    return tuple(out)


def _ui(prefix: str, data: Any) -> UiConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix}[ui]: expected a table, got {_show(data)}")
    known = ("theme", "keys", "bidi", "bell", "notify")
    for key, value in data.items():
        if key not in known and ("." in key or isinstance(value, dict)):
            # "triage.flag" = "j" (or triage.flag = "j", a dotted key) written in [ui]
            raise ConfigError(
                f"{prefix}[ui] unknown key {key!r}: key bindings go under [ui.keys], "
                f'e.g. [ui.keys] "triage.flag" = "F"'
            )
    t = _Table(f"{prefix}[ui]", data, known)
    keys = t.table("keys") or {}
    for binding_id, key in keys.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(
                f'{prefix}[ui.keys] {binding_id}: expected a key name such as "ctrl+r", '
                f"got {_show(key)}"
            )
    return UiConfig(
        theme=t.text("theme", DEFAULT_THEME),
        keys=dict(keys),
        bidi=t.choice("bidi", "auto", BIDI_MODES),
        bell=t.boolean("bell", False),
        notify=t.boolean("notify", True),
    )


def parse(text: str, path: Path | None = None) -> Config:
    """Validates a whole config document; raises ConfigError on the first problem."""
    prefix = f"{path}: " if path else ""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{prefix}not valid TOML: {exc}") from None
    top = _Table(prefix.rstrip(": ") + ":" if prefix else "config:", doc, ("accounts", "ui"))
    accounts_data = top.table("accounts") or {}
    accounts = tuple(_account(prefix, name, data) for name, data in accounts_data.items())
    ui_data = doc.get("ui", {})
    return Config(path=path, accounts=accounts, ui=_ui(prefix, ui_data))


def load(path: Path) -> Config:
    """Reads ``path``; a missing file is an empty config (the demo and setup still work)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return parse(text, path)

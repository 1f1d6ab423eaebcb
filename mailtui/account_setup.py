"""Setting up an account from its address: discovery's proposal and the user's own
choices become an account in config.toml (``mailtui setup``; the setup wizard builds on
the same steps).

    choices = Choices(email="ann@example.org", host=None, …)
    findings = await discovery.find(choices.email, options, on_result=show)
    plan = choose(findings, choices)        # kind, name, values: nothing written yet
    accounts.add_account(path, plan.name, plan.kind, plan.values)

What discovery found is a proposal: every value the user gives wins over it, and a
host the user gives drops the proposal's port and security unless given too (they
belong to the proposal's host). No secret is ever part of a plan."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mailtui.config import AccountConfig, Config
from mailtui.discovery import Findings, Proposal, Server, Source
from mailtui.discovery.model import SECOND_LEVEL
from mailtui.errors import DiscoveryError
from mailtui.protocols.kinds import configurable

#: A value of an account's setting, by option name ("smtp.host", "oauth.scopes").
PlanValue = str | int | bool | Path | list[str]


@dataclass(frozen=True, slots=True)
class Choices:
    """What the user said (None: not said, discovery's proposal or the default)."""

    email: str
    name: str | None = None  # the account's name in config.toml
    kind: str | None = None  # imap | pop3 | exchange
    username: str | None = None
    host: str | None = None
    port: int | None = None
    security: str | None = None
    ca_file: Path | None = None
    tls_fingerprint: str | None = None
    password_command: str | None = None
    token_command: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The account to write: its name, kind and values by option name."""

    name: str
    kind: str
    values: dict[str, PlanValue] = field(default_factory=dict)
    proposal: Proposal | None = None  # what discovery proposed, if anything was taken
    notes: tuple[str, ...] = ()  # plain lines for the user (OAuth2, app passwords …)


def account_name(domain: str, taken: Sequence[str] = ()) -> str:
    """The account's name after the address's domain: ``gmail`` for gmail.com,
    ``example`` for mail.example.co.uk; ``-2``, ``-3`` … when taken."""
    labels = [label for label in domain.split(".") if label]
    base = labels[0]
    if len(labels) >= 2:
        base = labels[-2]
        if base in SECOND_LEVEL and len(labels) >= 3:
            base = labels[-3]
    base = "".join(c if c.isalnum() or c in "._-" else "-" for c in base)[:60] or "mail"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def choose(findings: Findings, choices: Choices, config: Config | None = None) -> Plan:
    """The account to write from what discovery found and what the user chose. Raises
    DiscoveryError when there is nothing to go on (no proposal and no host), or the kind
    asked for was not found and no host was given."""
    kinds = [spec.name for spec in configurable()]
    if choices.kind is not None and choices.kind not in kinds:
        raise DiscoveryError(f"unknown account kind {choices.kind!r} (known: {', '.join(kinds)})")
    proposal = _pick(findings.proposals, choices.kind)
    if proposal is None and choices.host is None:
        domain = findings.email.domain
        if choices.kind is not None and findings.proposals:
            found = ", ".join(p.kind for p in findings.proposals)
            raise DiscoveryError(
                f"no {choices.kind} server found for {domain} (found: {found}); "
                "give --host to set one up anyway"
            )
        raise DiscoveryError(
            f"no mail server found for {domain}; give --host (and --kind, --port, "
            "--security) to set the account up by hand"
        )
    kind = choices.kind or (proposal.kind if proposal else "imap")
    values: dict[str, PlanValue] = dict(proposal.values(choices.email) if proposal else {})
    values["email"] = choices.email
    if choices.host is not None:
        for key in ("host", "port", "security"):
            values.pop(key, None)
    for key in ("host", "port", "security", "username", "ca_file", "tls_fingerprint"):
        value = getattr(choices, key)
        if value is not None:
            values[key] = value
    if choices.security is not None and choices.port is None:
        values.pop("port", None)  # the usual port of the security chosen
    if values.get("username") == choices.email:
        del values["username"]
    for key in ("password_command", "token_command"):
        value = getattr(choices, key)
        if value is not None:
            values[key] = value
    if choices.token_command is not None:
        values["auth"] = "oauth2"
    if kind == "exchange":
        values = {k: v for k, v in values.items() if not k.startswith("smtp.")}
    taken = [a.name for a in config.accounts] if config is not None else []
    name = choices.name or account_name(findings.email.domain, taken)
    notes = _notes(proposal, values, kind, findings.email.domain)
    return Plan(name, kind, values, proposal, notes)


def _pick(proposals: Sequence[Proposal], kind: str | None) -> Proposal | None:
    for proposal in proposals:
        if kind is None or proposal.kind == kind:
            return proposal
    return None


def _notes(
    proposal: Proposal | None, values: dict[str, PlanValue], kind: str, domain: str
) -> tuple[str, ...]:
    notes = []
    if proposal is not None and proposal.note:
        notes.append(proposal.note)
    if values.get("auth") == "oauth2" and "token_command" not in values:
        notes.append(
            "this provider wants OAuth2 sign-in: add [accounts.NAME.oauth] with your client "
            "id and run `mailtui login NAME` (README, \"Signing in with OAuth2\"; the "
            "wizard does both), or set token_command to a command that prints a token"
        )
    servers: list[Server] = []
    if proposal is not None:
        servers = [proposal.incoming] + ([proposal.outgoing] if proposal.outgoing else [])
    for server in servers:
        if server.note:
            notes.append(f"{server.host}: {server.note}")
    if proposal is not None and proposal.incoming.source is Source.GUESS:
        notes.append("found by guessing: check the servers before you rely on them")
    if proposal is not None and proposal.incoming.source in _ANYWHERE[:-1]:
        for server in servers:
            if not _within(server.host, domain):
                notes.append(
                    f"{server.host} is not in {domain}: make sure it is your provider's "
                    "before you give it your password"
                )
    if values.get("host") and "smtp.host" not in values and kind != "exchange":
        notes.append("no SMTP server found: this account cannot send until [smtp] is set")
    return tuple(notes)


#: Sources that can name any host (a file or record the domain's owner, or whoever
#: answers in its place, publishes): a host outside the domain gets no password unasked.
_ANYWHERE = (Source.AUTOCONFIG, Source.AUTODISCOVER, Source.SRV, Source.GUESS)


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


# ------------------------------------------------------------------ the check


@dataclass(frozen=True, slots=True)
class Checked:
    """One server tried for real: connected, secured, logged in, or why not."""

    what: str  # "incoming imap imap.example.org:993" / "outgoing smtp …"
    ok: bool
    text: str  # "logged in", or the reason in plain words
    #: A certificate not trusted: the option that would pin it ("tls_fingerprint",
    #: "smtp.tls_fingerprint"), its SHA-256 (64 hex digits) and subject ("" unknown).
    pin_key: str = ""
    fingerprint: str = ""
    subject: str = ""


def outside(plan: Plan, domain: str, confirmed: Sequence[str] = ()) -> list[str]:
    """The hosts of ``plan`` that discovery took from a place that can point anywhere
    (the provider's autoconfig, SRV records, guessing) and that are not in the
    address's ``domain``: no password goes there unless the user confirms them
    (``confirmed``: the hosts the user named)."""
    proposal = plan.proposal
    if proposal is None:
        return []
    hosts = []
    for server, key in ((proposal.incoming, "host"), (proposal.outgoing, "smtp.host")):
        if server is None or plan.values.get(key) != server.host or server.host in confirmed:
            continue
        if server.source in _ANYWHERE and not _within(
            server.host, domain
        ):
            hosts.append(server.host)
    return list(dict.fromkeys(hosts))


async def check(
    acc: AccountConfig, timeout: float = 30.0, password: str | None = None
) -> list[Checked]:
    """Connects and logs in to the account's incoming and outgoing servers, as the
    account will (its trust settings, its password or token; ``password``: one typed
    in, not in the keyring yet). Never raises for a server's answer: each failure is a
    ``Checked`` with the reason."""
    if password is None:
        return await _check(acc, timeout)
    from mailtui import secrets

    with secrets.provisional(acc.name, password):
        return await _check(acc, timeout)


async def _check(acc: AccountConfig, timeout: float) -> list[Checked]:
    from mailtui.protocols.kinds import kind as kind_spec
    from mailtui.sync.contract import Sending

    spec = kind_spec(acc.kind.value)
    out = []
    what = f"incoming {acc.kind.value} {acc.host}:{acc.port}"
    if spec.build is None:
        out.append(Checked(what, False, f"{acc.kind.value} accounts cannot be checked yet"))
    else:
        backend = spec.build(acc)
        try:
            async with asyncio.timeout(timeout):
                await backend.connect()
            out.append(Checked(what, True, "logged in"))
        except TimeoutError:
            out.append(Checked(what, False, f"no answer within {timeout:g} s"))
        except Exception as exc:  # the reason, whatever it is, for the user to read
            out.append(await _failed(what, exc, "tls_fingerprint", acc.host, acc.port,
                                     acc.security.value, acc.kind.value))  # fmt: skip
        finally:
            await backend.close()
    if acc.smtp is not None and spec.sending is Sending.SMTP:
        from mailtui.sync.outbox_config import connector

        what = f"outgoing smtp {acc.smtp.host}:{acc.smtp.port}"
        try:
            async with asyncio.timeout(timeout):
                connection = await connector(acc)()
            await connection.close()
            out.append(Checked(what, True, "logged in"))
        except TimeoutError:
            out.append(Checked(what, False, f"no answer within {timeout:g} s"))
        except Exception as exc:
            out.append(await _failed(what, exc, "smtp.tls_fingerprint", acc.smtp.host,
                                     acc.smtp.port, acc.smtp.security.value, "smtp"))  # fmt: skip
    return out


_PRESENTED = re.compile(r"sha256:((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")
#: How IMAP, POP3 ("not trusted") and SMTP ("could not be verified") say it.
_UNTRUSTED = re.compile(r"not trusted|could not be verified")


async def _failed(
    what: str, exc: BaseException, key: str, host: str, port: int, security: str,
    protocol: str,
) -> Checked:  # fmt: skip
    """The failure in words; for a certificate not trusted whose fingerprint the error
    names, what pinning it needs (and its subject)."""
    text = _reason(exc)
    presented = _PRESENTED.search(text)
    if presented is None or not _UNTRUSTED.search(text):
        return Checked(what, False, text)
    fingerprint = presented.group(1).replace(":", "").lower()
    subject = await certificate_subject(host, port, security, protocol)
    return Checked(what, False, text, key, fingerprint, subject)


#: How each protocol asks for TLS on a plain connection: the command, and the start of
#: the answer that says yes (after the greeting; SMTP says EHLO first).
_STARTTLS = {
    "imap": (b"a STARTTLS\r\n", b"a OK"),
    "pop3": (b"STLS\r\n", b"+OK"),
    "smtp": (b"STARTTLS\r\n", b"220"),
}


async def certificate_subject(
    host: str, port: int, security: str = "tls", protocol: str = "imap", timeout: float = 10.0
) -> str:
    """The subject of the certificate a server presents, over implicit TLS or after the
    protocol's STARTTLS (IMAP, POP3, SMTP), read from a handshake that verifies nothing;
    nothing is sent after it (no login). "" when it cannot be had."""
    from cryptography import x509

    from mailtui.protocols.net import tls

    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            if security == "tls":
                _, writer = await asyncio.open_connection(
                    host, port, ssl=tls.pinned_context(), server_hostname=host
                )
            elif security == "starttls" and protocol in _STARTTLS:
                reader, writer = await asyncio.open_connection(host, port)
                await _ask_for_tls(reader, writer, protocol)
                await writer.start_tls(tls.pinned_context(), server_hostname=host)
            else:
                return ""
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            if not der:
                return ""
            return x509.load_der_x509_certificate(der).subject.rfc4514_string()[:200]
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
        return ""
    finally:
        if writer is not None:
            writer.close()


async def _ask_for_tls(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: str
) -> None:
    """The greeting read, STARTTLS (STLS) sent and its yes read; ValueError otherwise."""
    command, yes = _STARTTLS[protocol]
    await reader.readline()  # the greeting (SMTP: one line, "220 …")
    if protocol == "smtp":
        writer.write(b"EHLO mailtui.invalid\r\n")
        while not (line := await reader.readline()).startswith(b"250 "):
            if not line.startswith(b"250-"):
                raise ValueError("EHLO refused")
    writer.write(command)
    while True:  # IMAP: untagged lines may come before the tagged answer
        line = await reader.readline()
        if not line:
            raise ValueError("closed")
        if line.startswith(yes):
            return
        if protocol != "imap" or not line.startswith(b"* "):
            raise ValueError("no TLS offered")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def trial(
    config: Config, plan: Plan, changed: Mapping[str, PlanValue | None] | None = None
) -> AccountConfig:
    """The account of ``plan`` as the reader and its kind's checks make it, without
    touching the config file (the edit is made to a copy). ``changed``: the account
    exists, and these are its changes (``changes``). Raises ConfigError."""
    import shutil
    import tempfile

    from mailtui import accounts

    assert config.path is not None
    with tempfile.TemporaryDirectory(prefix="mailtui-setup-") as directory:
        copy = Path(directory) / "config.toml"
        if config.path.exists():
            shutil.copyfile(config.path, copy)
        if changed is not None:
            return accounts.change_account(copy, plan.name, changed).account(plan.name)
        return accounts.add_account(copy, plan.name, plan.kind, plan.values).account(plan.name)


# ------------------------------------------------------------------ OAuth2 sign-in

#: The OAuth2 preset (mailtui/auth/providers.toml) of the servers' domains.
OAUTH_BY_HOST = (
    ("office365.com", "microsoft"),
    ("outlook.com", "microsoft"),
    ("gmail.com", "google"),
    ("googlemail.com", "google"),
)


def oauth_provider(values: Mapping[str, object]) -> str | None:
    """The sign-in preset for the account's incoming server, None when mailtui knows
    none (the user then writes ``[accounts.NAME.oauth]`` or gives ``token_command``)."""
    host = str(values.get("host", "")).lower().rstrip(".")
    for domain, provider in OAUTH_BY_HOST:
        if _within(host, domain):
            return provider
    return None


def oauth_values(
    table: Mapping[str, object], client_id: str
) -> dict[str, PlanValue]:
    """The ``oauth.*`` values of an account: ``table`` (the preset's name, or a whole
    custom table) with the user's ``client_id``."""
    out: dict[str, PlanValue] = {}
    for key, value in table.items():
        if isinstance(value, str | int | list):
            out[f"oauth.{key}"] = value
    out["oauth.client_id"] = client_id
    return out


# ------------------------------------------------------------------ editing


def plan_of(acc: AccountConfig) -> Plan:
    """An account as the wizard's plan, to edit it: the values the wizard's steps show
    (by option name); the rest of the account's table is left as it is."""
    values: dict[str, PlanValue] = {
        "email": acc.email,
        "host": acc.host,
        "port": acc.port,
        "security": acc.security.value,
    }
    if acc.username != acc.email:
        values["username"] = acc.username
    for key in ("ca_file", "tls_fingerprint", "url", "password_command", "token_command"):
        value = getattr(acc, key)
        if value:
            values[key] = value
    if acc.auth != "password":
        values["auth"] = acc.auth
    if acc.smtp is not None:
        values |= {"smtp.host": acc.smtp.host, "smtp.port": acc.smtp.port,
                   "smtp.security": acc.smtp.security.value}  # fmt: skip
    if acc.kind.value == "pop3":
        values["leave_on_server"] = acc.leave_on_server
        for key in ("delete_after_days", "delete_when_deleted_here", "max_message_kb", "apop"):
            if getattr(acc, key):  # the defaults are not in the file
                values[key] = getattr(acc, key)
    return Plan(acc.name, acc.kind.value, values)


def changes(before: Plan, after: Plan, asked: Sequence[str]) -> dict[str, PlanValue | None]:
    """What ``accounts.change_account`` needs to turn ``before`` into ``after``: the new
    values, and None for each of the ``asked`` options the user emptied."""
    out: dict[str, PlanValue | None] = {
        k: v for k, v in after.values.items() if before.values.get(k) != v
    }
    for key in asked:
        if key in before.values and key not in after.values:
            out[key] = None
    return out

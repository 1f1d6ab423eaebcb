"""What discovery works with and hands back: the address, the options that point each
source elsewhere, a server as a source proposes it, each source's result, and the
proposal per account kind that the sources' results merge into.

Every text here that came from outside (a host name, a provider's name from an XML
file) has been checked or cleaned before it got here: host names are DNS names, names
carry no control characters (they end up on a terminal)."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mailtui.errors import DiscoveryError

#: Seconds the whole discovery may take: every source's answer arrives by then, or the
#: source is reported as timed out.
DEFAULT_DEADLINE = 6.0
#: The ISPDB, Thunderbird's database of providers' settings, by domain.
ISPDB_URL = "https://autoconfig.thunderbird.net/v1.1/{domain}"
#: Where a provider serves its own settings (https only: see docs/decisions.md).
AUTOCONFIG_URLS = (
    "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
    "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
)


class Source(enum.IntEnum):
    """Where a setting came from; a lower value wins over a higher one."""

    PROVIDERS = 0  # the built-in table of the big providers (providers.toml)
    AUTOCONFIG = 1  # the provider's own autoconfig file
    AUTODISCOVER = 2  # Exchange Autodiscover (the domain's own word, like autoconfig)
    ISPDB = 3  # the ISPDB
    MX = 4  # the domain's MX hosts at a provider of the table (Google, Microsoft …)
    SRV = 5  # DNS SRV records (RFC 6186, RFC 8314)
    GUESS = 6  # a server answered on imap./mail./pop./smtp. hosts

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Source.PROVIDERS: "provider table",
    Source.AUTOCONFIG: "provider's autoconfig",
    Source.AUTODISCOVER: "Exchange Autodiscover",
    Source.ISPDB: "ISPDB",
    Source.MX: "MX records",
    Source.SRV: "SRV records",
    Source.GUESS: "guessing",
}


class Status(enum.StrEnum):
    FOUND = "found"  # servers found
    NOTHING = "nothing"  # the source answered, with nothing for this domain (404, NXDOMAIN)
    FAILED = "failed"  # the source could not answer (bad XML, too large, refused …)
    TIMED_OUT = "timed out"  # no answer before the deadline


@dataclass(frozen=True, slots=True)
class Email:
    """An email address, checked: ``domain`` is its domain in lower-case ASCII (IDNA)."""

    address: str
    local: str
    domain: str

    @classmethod
    def parse(cls, text: str) -> Email:
        """Raises DiscoveryError with the reason when ``text`` is not an address."""
        address = text.strip()
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain:
            raise DiscoveryError(f"{text!r} is not an email address (name@domain)")
        if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in address):
            raise DiscoveryError(f"{text!r} is not an email address (spaces or control characters)")
        try:
            ascii_domain = domain.encode("idna").decode("ascii").lower().rstrip(".")
        except UnicodeError:
            raise DiscoveryError(f"{text!r}: {domain!r} is not a domain name") from None
        if "." not in ascii_domain or not is_host_name(ascii_domain):
            raise DiscoveryError(f"{text!r}: {domain!r} is not a domain name")
        return cls(address, local, ascii_domain)


_LABEL = r"[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?", re.IGNORECASE)


def is_host_name(text: str) -> bool:
    """A DNS name (letters, digits, hyphens; labels up to 63, the whole up to 253)."""
    return len(text) <= 253 and _HOST.fullmatch(text) is not None


#: Second-level labels of public suffixes (example.co.uk, yahoo.com.au): the name a
#: domain is registered under is one label longer there.
SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gob"})


def registered_domain(host: str) -> str:
    """The domain ``host`` belongs to, as far as one can tell without the public suffix
    list: mx1.mail.example.org -> example.org, mx.example.co.uk -> example.co.uk."""
    labels = [label for label in host.lower().rstrip(".").split(".") if label]
    keep = 3 if len(labels) >= 3 and labels[-2] in SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def clean_text(text: str, limit: int = 80) -> str:
    """Text from outside, fit for a terminal line: no control characters, one line,
    at most ``limit`` characters."""
    kept = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(kept.split())[:limit]


@dataclass(frozen=True, slots=True)
class Server:
    """One server as a source proposes it."""

    protocol: str  # "imap" | "pop3" | "smtp" | "exchange"
    host: str
    port: int
    security: str  # "tls" | "starttls" | "none" (as config.toml says it)
    username: str  # the login name for this address
    source: Source
    auth: str = "password"  # "oauth2" where the provider accepts nothing else
    note: str = ""  # plain words worth showing (e.g. "certificate not trusted")
    url: str = ""  # the whole address, for a kind that speaks HTTP (Exchange ActiveSync)

    def describe(self) -> str:
        if self.url:
            note = f" ({self.note})" if self.note else ""
            return f"{self.protocol} {self.url}, user {self.username}{note}"
        auth = ", OAuth2 sign-in" if self.auth == "oauth2" else ""
        note = f" ({self.note})" if self.note else ""
        return (
            f"{self.protocol} {self.host}:{self.port} {self.security}, "
            f"user {self.username}{auth}{note}"
        )


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source said, in plain words; ``servers`` in the source's preference
    order (the first of a protocol is the one it recommends)."""

    source: Source
    status: Status
    servers: tuple[Server, ...] = ()
    detail: str = ""  # why nothing, what failed, or where it came from
    provider: str = ""  # the provider's name, where the source names one
    #: A host in another domain the source leads to and did not follow: asked first
    #: (the wizard asks; ``mailtui setup`` follows it with ``--trust-hosts``).
    ask_host: str = ""

    def describe(self) -> str:
        text = f"{self.source.label}: {self.status.value}"
        if self.provider:
            text += f" ({self.provider})"
        if self.detail:
            text += f": {self.detail}"
        return text


@dataclass(frozen=True, slots=True)
class Proposal:
    """An account of one kind as discovery proposes it: a proposal, never a verdict
    (the user sees and may change every field)."""

    kind: str  # "imap" | "pop3" | "exchange"
    incoming: Server
    outgoing: Server | None  # SMTP; None for a kind that sends itself, or none found
    provider: str = ""
    note: str = ""  # the provider table's word to the user (app passwords, switches)

    def values(self, email: str) -> dict[str, str | int]:
        """The account's settings for config.toml, by option name (``Option.name``):
        what differs from the defaults is written, and never a secret."""
        incoming = self.incoming
        out: dict[str, str | int] = {
            "email": email,
            "host": incoming.host,
            "port": incoming.port,
            "security": incoming.security,
        }
        if incoming.url:
            out["url"] = incoming.url
        if incoming.username != email:
            out["username"] = incoming.username
        if incoming.auth == "oauth2":
            out["auth"] = "oauth2"
        smtp = self.outgoing
        if smtp is not None:
            out |= {"smtp.host": smtp.host, "smtp.port": smtp.port, "smtp.security": smtp.security}
            if smtp.username != incoming.username:
                out["smtp.username"] = smtp.username
            if smtp.auth != incoming.auth:
                out["smtp.auth"] = smtp.auth
        return out


Runner = Callable[["Email", "Options"], Awaitable[SourceResult]]


@dataclass(frozen=True, slots=True)
class Options:
    """Where each source asks, so that tests and private deployments use their own
    servers. ``dns``: "HOST:PORT" of the DNS server for SRV, MX and the guessed hosts
    (None: the system's resolver). ``autoconfig_url`` / ``ispdb_url``: URL templates
    with ``{domain}`` and ``{email}``. ``ca_file``: a certificate to trust besides the
    system's, for HTTPS and the guessed servers' TLS. ``guess_ports``: the port tried
    for (protocol, security), e.g. ``{("imap", "tls"): 10993}``; the usual ones else."""

    deadline: float = DEFAULT_DEADLINE
    dns: str | None = None
    autoconfig_url: str | None = None
    ispdb_url: str = ISPDB_URL
    ca_file: Path | None = None
    guess_ports: Mapping[tuple[str, str], int] = field(default_factory=dict)
    sources: frozenset[Source] = frozenset(Source)
    max_xml_bytes: int = 256 * 1024
    guess_timeout: float = 3.0
    #: Exchange Autodiscover's address (``{domain}``, ``{email}``); None: the domain's
    #: usual ones (https://DOMAIN/…, https://autodiscover.DOMAIN/…, the http redirect).
    autodiscover_url: str | None = None
    #: Hosts of other domains a source may follow (the user said yes), and whether to
    #: follow any (``--trust-hosts``).
    trusted_hosts: frozenset[str] = frozenset()
    trust_redirects: bool = False
    #: Runners for sources this package cannot run itself (Autodiscover lives with the
    #: Exchange kind, a layer this package does not import): given by the caller.
    runners: Mapping[Source, Runner] = field(default_factory=dict)

    def dns_server(self) -> tuple[str, int] | None:
        """``dns`` as (host, port). Raises DiscoveryError when it is not HOST:PORT."""
        if self.dns is None:
            return None
        host, colon, port = self.dns.rpartition(":")
        if not colon:
            host, port = self.dns, "53"
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise DiscoveryError(f"--dns {self.dns!r}: expected HOST:PORT, e.g. 127.0.0.1:53")
        return host, int(port)

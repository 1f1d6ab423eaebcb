"""``mailtui setup --email ADDRESS … --non-interactive``: discovery, the user's choices,
the account written to config.toml, and what was found and chosen printed on the way.

Importing this module loads only argparse (the command line builds its parser with
``add_arguments`` on every start); discovery and the rest load when ``run`` runs.
Failures are raised (DiscoveryError, ConfigError) for ``mailtui.cli`` to print as one
line with a non-zero exit."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mailtui.config import Config

if TYPE_CHECKING:
    from mailtui.discovery import Options

SECURITY = ("tls", "starttls", "none")
KINDS = ("imap", "pop3", "exchange")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Find an account's settings from its email address (a table of the big "
        "providers, the provider's autoconfig, Exchange Autodiscover, the ISPDB, DNS SRV "
        "and MX records, guessing), and write the account to config.toml (never a password)."
    )
    p.add_argument("--email", metavar="ADDRESS", help="the account's address")
    p.add_argument("--name", metavar="NAME", help="the account's name (else after the domain)")
    p.add_argument("--kind", choices=KINDS, help="the account kind (else the best one found)")
    p.add_argument("--username", metavar="U", help="the login name, if not the address")
    p.add_argument("--host", metavar="HOST", help="the incoming server (else the one found)")
    p.add_argument("--port", type=int, metavar="PORT", help="its port")
    p.add_argument("--security", choices=SECURITY, help="its security")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--ca-file", type=Path, metavar="F", help="trust exactly this certificate")
    trust.add_argument(
        "--tls-fingerprint", metavar="FP", help="trust only the certificate with this SHA-256"
    )
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--password-command", metavar="CMD", help="a command printing the password")
    secret.add_argument(
        "--token-command", metavar="CMD", help="OAuth2: a command printing an access token"
    )
    p.add_argument("--dns", metavar="HOST:PORT", help="the DNS server for SRV and MX records")
    p.add_argument(
        "--autoconfig-url",
        metavar="URL",
        help="where the provider's autoconfig file is ({domain} and {email} are filled in)",
    )
    p.add_argument(
        "--autodiscover-url",
        metavar="URL",
        help="where Exchange Autodiscover answers ({domain} and {email} are filled in)",
    )
    p.add_argument("--ispdb-url", metavar="URL", help="the ISPDB's URL, with {domain}")
    p.add_argument(
        "--check",
        action="store_true",
        help="connect and log in to the servers first; write the account only if both work",
    )
    p.add_argument(
        "--trust-hosts",
        action="store_true",
        help="follow an Autodiscover redirect to another domain, and with --check log in "
        "even to servers found outside the address's domain",
    )
    p.add_argument(
        "--non-interactive",
        action="store_true",
        help="no questions: take what was found and the options given (for scripts); "
        "without it, the setup wizard",
    )


def options_from(args: argparse.Namespace) -> Options:
    """Where discovery asks, from the command line. Raises DiscoveryError for a bad
    ``--dns`` or ``--ca-file``."""
    from mailtui.autodiscover_source import with_autodiscover
    from mailtui.discovery import Options
    from mailtui.discovery.model import ISPDB_URL
    from mailtui.errors import DiscoveryError

    if args.ca_file is not None:
        args.ca_file = args.ca_file.expanduser().resolve()  # the config needs it absolute
        if not args.ca_file.is_file():
            raise DiscoveryError(f"--ca-file {args.ca_file}: no such file")
    options = Options(
        dns=args.dns,
        autoconfig_url=args.autoconfig_url,
        ispdb_url=args.ispdb_url or ISPDB_URL,
        ca_file=args.ca_file,
        autodiscover_url=args.autodiscover_url,
        trust_redirects=bool(getattr(args, "trust_hosts", False)),
    )
    options.dns_server()  # a bad --dns before anything runs
    return with_autodiscover(options)


async def wizard(args: argparse.Namespace, config: Config, out: Callable[[str], None]) -> int:
    """The setup wizard (a Textual app of its own); the account it saved is printed."""
    from mailtui.errors import DiscoveryError
    from mailtui.ui.screens.setup import SetupApp

    plan = await SetupApp(config, options_from(args), args.email or "").run_async()
    if plan is None or isinstance(plan, str):
        raise DiscoveryError("setup left: nothing saved")
    out(f"Wrote account {plan.name!r} ({plan.kind}) to {config.path}.")
    return 0


#: Where the first start's discovery asks, for a deployment that runs its own sources
#: (and for tests): the environment variables and the ``Options`` field each sets.
SOURCE_ENVIRONMENT = {
    "MAILTUI_SETUP_DNS": "dns",
    "MAILTUI_SETUP_AUTOCONFIG_URL": "autoconfig_url",
    "MAILTUI_SETUP_ISPDB_URL": "ispdb_url",
    "MAILTUI_SETUP_AUTODISCOVER_URL": "autodiscover_url",
}


def options_from_environment(environ: Mapping[str, str]) -> Options:
    """The first start's discovery options: the defaults, each source pointed where
    ``SOURCE_ENVIRONMENT``'s variables say. Raises DiscoveryError for a bad DNS server."""
    from mailtui.autodiscover_source import with_autodiscover
    from mailtui.discovery import Options

    given = {f: environ[name] for name, f in SOURCE_ENVIRONMENT.items() if environ.get(name)}
    options = Options(**given)  # type: ignore[arg-type]
    options.dns_server()
    return with_autodiscover(options)


async def first_start(config: Config) -> str | None:
    """``mailtui`` with no account: the wizard, the demo one key away. Returns "saved"
    (an account was written), "demo", or None (the user left)."""
    import os

    from mailtui.ui.screens.setup import DEMO, SetupApp

    options = options_from_environment(os.environ)
    result = await SetupApp(config, options, offer_demo=True).run_async()
    if result == DEMO:
        return "demo"
    return None if result is None else "saved"


async def run(args: argparse.Namespace, config: Config, out: Callable[[str], None]) -> int:
    """Discovers, chooses, writes. Returns the exit code; raises DiscoveryError or
    ConfigError with the reason in one line."""
    from mailtui import accounts, discovery
    from mailtui.account_setup import Choices, check, choose, outside, trial
    from mailtui.errors import DiscoveryError
    from mailtui.protocols.kinds import kind as kind_spec

    assert config.path is not None
    if not args.email:
        raise DiscoveryError("--email ADDRESS is needed with --non-interactive")
    email = discovery.Email.parse(args.email)
    options = options_from(args)
    out(f"Looking for the settings of {email.address} (at most {options.deadline:g} s):")
    def show(result: discovery.SourceResult) -> None:
        out("  " + result.describe())
        if result.ask_host:
            out(f"    {result.ask_host} is not in {email.domain}: --trust-hosts follows it")

    findings = await discovery.find(email, options, on_result=show)
    choices = Choices(
        email=email.address,
        name=args.name,
        kind=args.kind,
        username=args.username,
        host=args.host,
        port=args.port,
        security=args.security,
        ca_file=args.ca_file,
        tls_fingerprint=args.tls_fingerprint,
        password_command=args.password_command,
        token_command=args.token_command,
    )
    plan = choose(findings, choices, config)
    if plan.proposal is not None:
        where = f" ({plan.proposal.provider})" if plan.proposal.provider else ""
        out(f"Chose {plan.kind} from the {plan.proposal.incoming.source.label}{where}.")
    if args.check:
        hosts = outside(plan, email.domain, [args.host] if args.host else [])
        if hosts and not args.trust_hosts:
            raise DiscoveryError(
                f"{', '.join(hosts)}: not in {email.domain}, where discovery found it; no "
                "password goes there unless you confirm with --trust-hosts (nothing written)"
            )
        out("Checking: connect and log in")
        results = await check(trial(config, plan))
        for result in results:
            out(f"  {result.what}: {result.text}")
        failed = next((r for r in results if not r.ok), None)
        if failed is not None:
            raise DiscoveryError(f"{failed.what}: {failed.text} (nothing written)")
    accounts.add_account(config.path, plan.name, plan.kind, plan.values)
    out(f"Wrote account {plan.name!r} ({plan.kind}) to {config.path}:")
    for key, value in plan.values.items():
        out(f"  {key} = {value}")
    for note in plan.notes:
        out(f"Note: {note}")
    if kind_spec(plan.kind).build is None:
        out(f"Note: {plan.kind} accounts cannot sync in this version of mailtui yet")
    if "password_command" not in plan.values and "token_command" not in plan.values:
        secret = "access token" if plan.values.get("auth") == "oauth2" else "password"
        key = f"{plan.name}:oauth2" if secret == "access token" else plan.name
        out(f"Store the {secret} in the keyring: keyring set mailtui {key}")
    if not args.check:
        out(f"Not checked: `mailtui sync --once --account {plan.name}` tries it.")
    return 0

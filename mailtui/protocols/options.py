"""The options every account on a server has, for the kinds to list (``KindSpec``).

Defaults, choices and bounds are the reader's own (``mailtui.config.reader``), so that
what a setup wizard shows is what the account gets when the user leaves it alone;
``tests/unit/test_kinds.py`` checks it.
"""

from __future__ import annotations

from mailtui.auth.providers import PROVIDERS
from mailtui.config.reader import AUTH_MODES, DEFAULT_PORTS, SECURITY_MODES, SMTP_AUTH_MODES
from mailtui.sync.contract import Option
from mailtui.sync.contract import OptionType as T

_PORT = (1, 65535)


def server(kind: str, host_example: str) -> tuple[Option, ...]:
    """The account's own options for a server of ``kind``, in the order to ask them."""
    return (
        Option(
            "email",
            T.EMAIL,
            "your email address; also the login name unless username is set",
            required=True,
        ),
        Option("host", T.TEXT, f"the server's host name, e.g. {host_example}", required=True),
        Option(
            "security",
            T.CHOICE,
            "tls: encrypted from the start; starttls: after connecting; none: plain text",
            default="tls",
            choices=SECURITY_MODES,
        ),
        Option(
            "port",
            T.INTEGER,
            "the server's port; the usual one for the security mode unless set",
            bounds=_PORT,
            follows="security",
            defaults={s: DEFAULT_PORTS[(kind, s)] for s in SECURITY_MODES},
        ),
        Option(
            "username",
            T.TEXT,
            "the login name, when it is not the email address",
            follows="email",
        ),
        Option(
            "auth",
            T.CHOICE,
            "password, or oauth2: an access token from `mailtui login` or token_command",
            default="password",
            choices=AUTH_MODES,
        ),
        Option(
            "password_command",
            T.COMMAND,
            "a command that prints the password, where there is no keyring",
        ),
        Option(
            "token_command",
            T.COMMAND,
            'with auth = "oauth2": a command that prints an access token',
        ),
        *oauth(kind),
        Option("ca_file", T.PATH, "trust exactly this certificate (a self-hosted server)"),
        Option(
            "tls_fingerprint",
            T.FINGERPRINT,
            "trust exactly the certificate with this SHA-256 fingerprint, no CA needed",
        ),
        Option("display_name", T.TEXT, "your name, as it shows beside your address"),
        Option(
            "poll_interval",
            T.INTEGER,
            "seconds between checks of the folders the server does not push",
            default=300,
            bounds=(10, 86400),
        ),
        Option(
            "body_days",
            T.INTEGER,
            "messages newer than this many days download in full in the background",
            default=30,
            bounds=(0, 36500),
        ),
    )


def smtp(*, copy_to_sent: bool) -> tuple[Option, ...]:
    """The ``[accounts.<name>.smtp]`` options of a kind that sends through SMTP;
    ``copy_to_sent`` where mailtui files sent mail in the server's Sent folder."""
    options = (
        Option(
            "smtp.host",
            T.TEXT,
            "the SMTP server that sends your mail, e.g. smtp.example.org; unset: no sending",
        ),
        Option(
            "smtp.security",
            T.CHOICE,
            "tls, starttls or none, as for the account's server",
            default="starttls",
            choices=SECURITY_MODES,
        ),
        Option(
            "smtp.port",
            T.INTEGER,
            "the SMTP port; the usual one for the security mode unless set",
            bounds=_PORT,
            follows="smtp.security",
            defaults={s: DEFAULT_PORTS[("smtp", s)] for s in SECURITY_MODES},
        ),
        Option(
            "smtp.username",
            T.TEXT,
            "the SMTP login name, when it is not the account's",
            follows="username",
            unless=("smtp.auth", "none"),
        ),
        Option(
            "smtp.auth",
            T.CHOICE,
            "password or oauth2, when not the account's; none for a relay that takes "
            "mail without a login",
            choices=SMTP_AUTH_MODES,
        ),
        Option(
            "smtp.password_command",
            T.COMMAND,
            "a command that prints the SMTP password, when not the account's",
            follows="password_command",
            unless=("smtp.auth", "none"),
        ),
        Option(
            "smtp.token_command",
            T.COMMAND,
            "a command that prints the SMTP access token, when not the account's",
        ),
        Option("smtp.ca_file", T.PATH, "trust exactly this certificate, when not the account's"),
        Option(
            "smtp.tls_fingerprint",
            T.FINGERPRINT,
            "trust exactly the certificate with this fingerprint, when not the account's",
        ),
    )
    if not copy_to_sent:
        return options
    return (
        *options,
        Option(
            "smtp.copy_to_sent",
            T.BOOLEAN,
            "file a copy of each sent message in Sent; false where the server does (Gmail)",
            default=True,
        ),
    )


def oauth(kind: str) -> tuple[Option, ...]:
    """The ``[accounts.<name>.oauth]`` options (``mailtui.config.oauth``): the OAuth2
    client ``mailtui login`` signs in with, for the providers that serve ``kind``. A
    provider of one's own (``provider = "custom"``, endpoints and scopes) is written
    by hand."""
    providers = tuple(n for n, p in PROVIDERS.items() if kind in p.scopes)
    return (
        Option(
            "oauth.provider",
            T.CHOICE,
            'with auth = "oauth2": who signs you in (mailtui login); its endpoints and scopes',
            choices=providers,
        ),
        Option(
            "oauth.client_id",
            T.TEXT,
            "the client id of the application you registered with the provider (README)",
        ),
        Option(
            "oauth.client_secret",
            T.TEXT,
            "the client secret of that registration, for providers that want one (Google)",
        ),
        Option(
            "oauth.tenant",
            T.TEXT,
            "Microsoft: common (default), organizations, consumers or your tenant id",
        ),
        Option(
            "oauth.redirect_port",
            T.INTEGER,
            "a fixed port for the browser sign-in's redirect (ssh -L); unset: any free one",
            bounds=_PORT,
        ),
    )

"""``mailtui login ACCOUNT``: run an OAuth2 sign-in and keep its tokens in the keyring;
and, before any run in a terminal, what a host without a keyring needs asked
(``unlock_secrets``: the encrypted file's passphrase; ``ask_for_secrets``: passwords
kept in memory for the run).

The flow is the one asked for (``--flow``), else the first the account's client allows:
the device flow where the provider offers it (nothing to open on this host: the code is
entered on any device), else the browser with a loopback redirect. What the user needs
(the page, the code, the browser URL, the ``ssh -L`` line) goes to ``say``; no token is
ever shown. Raises ``LoginError`` with one line for the user.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from mailtui import secrets
from mailtui.auth.client import Client, OAuthError, Tokens
from mailtui.config import AccountConfig, Config
from mailtui.errors import MailtuiError

FLOWS = ("device", "loopback")


class LoginError(MailtuiError):
    """The sign-in could not be run or did not end with stored tokens."""


def client_of(acc: AccountConfig) -> Client:
    if acc.oauth is None:
        if acc.auth != "oauth2" and (acc.smtp is None or acc.smtp.auth != "oauth2"):
            raise LoginError(
                f'account {acc.name!r} logs in with a password (auth = "{acc.auth}"): there '
                "is nothing to sign in to; `mailtui setup` stores a password"
            )
        raise LoginError(
            f"account {acc.name!r} has no [accounts.{acc.name}.oauth] table: add one with "
            'the provider and your client id (README, "Signing in with OAuth2")'
        )
    return acc.oauth


def signs_in(acc: AccountConfig) -> bool:
    """Whether mailtui itself signs ``acc`` in (an ``oauth`` table, no token_command):
    a refused login of such an account is mended by signing in again."""
    return acc.oauth is not None and not acc.token_command


def typed_password_accounts(config: Config) -> list[str]:
    """On a host whose keyring cannot keep secrets, the accounts whose password is
    typed in for the run (the UI asks for it with its sign-in key); else none."""
    needing = [
        acc.name for acc in config.accounts
        if acc.auth == "password" and not acc.password_command
    ]
    if not needing or secrets.keyring_problem() is None:
        return []
    return needing


def pick_flow(client: Client, asked: str | None) -> str:
    if not client.flows:  # pragma: no cover - the config reader requires one
        raise LoginError(f"{client.where} offers no sign-in flow")
    if asked is None:
        return client.flows[0]
    if asked not in client.flows:
        other = " or ".join(f"--flow {f}" for f in client.flows)
        what = "a device code" if asked == "device" else "a browser"
        raise LoginError(f"{client.where} offers no sign-in with {what} here; use {other}")
    return asked


async def login(
    acc: AccountConfig,
    flow: str | None,
    say: Callable[[str], None],
    *,
    qr: bool = False,
    in_app: bool = False,
    on_page: Callable[[str, str], None] | None = None,
) -> Tokens:
    """Signs ``acc`` in and stores the tokens; returns them (for the caller's summary).
    ``qr``: the device flow's page also as a QR code. ``in_app``: run from the UI (Esc
    stops it, the account reconnects by itself); ``on_page``: given the flow and the page
    the user is to open, once known (the UI copies it, or draws it as a QR code)."""
    client = client_of(acc)
    chosen = pick_flow(client, flow)
    problem = await asyncio.to_thread(secrets.keyring_problem)
    if problem is not None:  # found out before the user signs in, not after
        raise LoginError(
            f"{acc.name}: {problem}, so a sign-in could not be kept; give mailtui a keyring "
            '(README, "Hosts without a keyring"), or use token_command with a helper that '
            "keeps tokens itself"
        )
    stop = "Esc" if in_app else "Ctrl+C"
    try:
        if chosen == "device":
            tokens = await _device(acc, client, say, qr, stop, on_page)
        else:
            tokens = await _loopback(acc, client, say, stop, on_page)
    except OAuthError as exc:
        raise LoginError(f"{acc.name}: {exc}") from None
    try:
        secrets.store_sign_in(acc.name, tokens)
    except secrets.SecretError as exc:
        raise LoginError(f"{acc.name}: signed in, but {exc}") from None
    if tokens.refresh_token:
        later = (
            "It reconnects now."
            if in_app
            else "A mailtui already running picks it up when told to reconnect (F5)."
        )
        say(f"Signed in: account {acc.name!r} keeps its sign-in in the keyring. {later}")
    else:
        say(
            f"Signed in, but {client.where} gave no refresh token: account {acc.name!r} "
            "must sign in again when this access token expires (is offline_access among "
            "the scopes?)."
        )
    return tokens


async def _device(
    acc: AccountConfig,
    client: Client,
    say: Callable[[str], None],
    qr: bool,
    stop: str,
    on_page: Callable[[str, str], None] | None,
) -> Tokens:
    from mailtui.auth.device import poll_device, request_device_code

    code = await request_device_code(client)
    if on_page is not None:
        on_page("device", code.verification_uri_complete or code.verification_uri)
    if qr:
        from mailtui.auth.qr import lines

        for line in lines(code.verification_uri_complete or code.verification_uri):
            say(line)
    say(f"To sign in to account {acc.name!r} ({client.where}), on any device:")
    say(f"  open   {code.verification_uri}")
    say(f"  enter  {code.user_code}")
    if code.verification_uri_complete:
        say(f"  (or open {code.verification_uri_complete}, which has the code in it)")
    say(f"Waiting for the sign-in; the code expires in {_minutes(code.expires_in)}. "
        f"{stop} stops.")
    return await poll_device(client, code)


async def _loopback(
    acc: AccountConfig,
    client: Client,
    say: Callable[[str], None],
    stop: str,
    on_page: Callable[[str, str], None] | None,
) -> Tokens:
    from mailtui.auth.loopback import LoopbackSignIn

    async with LoopbackSignIn(client) as flow:
        if on_page is not None:
            on_page("loopback", flow.url)
        say(f"To sign in to account {acc.name!r} ({client.where}), open this in a browser:")
        say("")
        say(f"  {flow.url}")
        say("")
        say(
            f"Waiting for the browser to come back to {flow.redirect_uri} "
            f"({_minutes(int(flow.timeout))}; {stop} stops). If the browser runs on another "
            "machine, forward the port from that machine first:"
        )
        say(f"  ssh -L {flow.port}:127.0.0.1:{flow.port} THIS-HOST")
        if not client.redirect_port:
            say(
                "  (the port is new each time unless redirect_port is set in "
                f"[accounts.{acc.name}.oauth])"
            )
        return await flow.finish()


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def unlock_secrets() -> None:
    """mailtui's encrypted secrets file, when it is the keyring backend: its passphrase,
    asked once per run in a terminal (a new file: twice, to be sure)."""
    if not sys.stdin.isatty() or not secrets.file_store_in_use():
        return
    import getpass

    from mailtui.secrets import filestore

    if not filestore.locked():
        return
    where = filestore.store_path()
    if not filestore.exists():
        first = getpass.getpass(f"New passphrase for mailtui's secrets file {where}: ")
        if not first or getpass.getpass("The same passphrase again: ") != first:
            raise LoginError("the passphrases were empty or not the same; nothing was made")
        filestore.unlock(first)
        return
    for _ in range(3):
        try:
            filestore.unlock(getpass.getpass(f"Passphrase of mailtui's secrets file {where}: "))
            return
        except filestore.WrongPassphrase:
            print("mailtui: that passphrase does not open it", file=sys.stderr)
    raise LoginError(f"{where} stays locked: three wrong passphrases")


def ask_for_secrets(config: Config, only: str | None) -> None:
    """On a host without a usable keyring, asks once (masked) for each password the
    accounts would read from it, and keeps it in memory for this run only; nothing is
    asked without a terminal, or when every account has password_command."""
    unlock_secrets()
    needing = [
        acc
        for acc in config.accounts
        if (only is None or acc.name == only) and acc.auth == "password"
        and not acc.password_command
    ]
    if not needing or not sys.stdin.isatty():
        return
    problem = secrets.keyring_problem()
    if problem is None:
        return
    print(
        f"mailtui: {problem}. Passwords are asked once and kept in memory for this run "
        "only (password_command saves typing them).",
        file=sys.stderr,
    )
    import getpass

    for acc in needing:
        typed = getpass.getpass(f"Password for {acc.name} ({acc.username} at {acc.host}): ")
        if typed:
            secrets.remember_for_this_run(acc.name, typed)

"""Command line: the arguments, the log, and ``mailtui`` (the UI); ``mailtui sync``,
``mailtui export`` and ``mailtui send`` run from ``mailtui.commands``, ``mailtui login
ACCOUNT`` (OAuth2 sign-in) from ``mailtui.login``, ``mailtui setup`` from
``mailtui.setup_command``.

The headless commands reuse the same store and sync workers as the UI and never import
Textual (``tests/unit/test_boundaries.py`` checks it). Every failure the user can cause or
meet (bad config, newer database, wrong password, full disk) ends in one plain line on
stderr and a non-zero exit code; tracebacks go only to the log file.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from io import TextIOWrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtui import __version__, accounts, memory, paths
from mailtui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_QUEUED,
    EXIT_USAGE,
    UserError,
    ask_passwords,
    load_config,
    open_store,
    worker_specs,
)
from mailtui.commands.export import cmd_export
from mailtui.commands.send import cmd_send
from mailtui.commands.sync import cmd_sync
from mailtui.config import AccountConfig, Config
from mailtui.errors import ConfigError, DiscoveryError, ExportError
from mailtui.store import StoreError
from mailtui.sync.manager import SyncManager

if TYPE_CHECKING:
    from mailtui.compose import Identity

log = logging.getLogger("mailtui")



def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mailtui",
        description="A keyboard-driven terminal email client (IMAP, POP3, Exchange).",
        usage="%(prog)s [options] [COMMAND ... | mailto:ADDRESS?subject=…]",
        epilog="Run `mailtui --demo` to try it on a generated mailbox, no account needed. "
        "`mailtui mailto:…` opens the composer on a mailto: link.",
    )
    p.add_argument("--version", action="version", version=f"mailtui {__version__}")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file to use")
    p.add_argument(
        "--demo", action="store_true", help="use the built-in demo account (no network)"
    )
    p.add_argument(
        "--debug-log",
        type=Path,
        metavar="FILE",
        help="also write a debug log (the IMAP exchange, line by line) to FILE; logins, "
        "passwords and tokens are blanked out",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("sync", help="sync accounts without the UI")
    s.add_argument("--once", action="store_true", help="stop when every account is in step")
    s.add_argument("--account", metavar="NAME", help="only this account")
    e = sub.add_parser("export", help="write every cached message to a Maildir or mbox")
    e.add_argument(
        "--account", metavar="NAME", help="the account to export (needed with several)"
    )
    e.add_argument(
        "--fetch",
        action="store_true",
        help="first download the bodies not cached yet (syncs the account once)",
    )
    e.add_argument("--folder", metavar="F", help="only this folder (server name)")
    where = e.add_mutually_exclusive_group(required=True)
    where.add_argument("--maildir", type=Path, metavar="DIR")
    where.add_argument("--mbox", type=Path, metavar="FILE")
    snd = sub.add_parser(
        "send",
        help="send a message from standard input, or what waits in the outbox",
        usage="%(prog)s [--account NAME] [-t] [-f FROM] [RECIPIENT ...] < message\n"
        "       %(prog)s --outbox [--account NAME]",
        epilog=f"Exit status: {EXIT_OK} sent; {EXIT_FAILED} or {EXIT_USAGE} not queued "
        f"(nothing changed); {EXIT_QUEUED} queued, not sent yet (it waits in the outbox "
        "and goes with the next `mailtui send --outbox` or when mailtui runs).",
    )
    snd.add_argument(
        "--outbox", action="store_true", help="flush every account's outbox (no message read)"
    )
    snd.add_argument("--account", metavar="NAME", help="only this account / send with it")
    snd.add_argument(
        "-t", dest="from_headers", action="store_true",
        help="recipients also from the message's To, Cc and Bcc (Bcc is not sent)",
    )  # fmt: skip
    snd.add_argument("-f", dest="envelope_from", metavar="FROM", help="the envelope sender")
    snd.add_argument(
        "-i", "-oi", dest="ignore_dots", action="store_true",
        help="sendmail's: a line with a lone dot does not end the message (it never does)",
    )  # fmt: skip
    snd.add_argument("recipients", nargs="*", metavar="RECIPIENT")
    lg = sub.add_parser(
        "login",
        help="sign in to an OAuth2 account (a device code, or a browser)",
        description="Sign in to an account with auth = \"oauth2\" and an "
        "[accounts.NAME.oauth] table; the tokens are kept in the keyring.",
    )
    lg.add_argument("account", metavar="ACCOUNT")
    lg.add_argument(
        "--flow",
        choices=("device", "loopback"),
        help="device: enter a code on any device; loopback: a browser that comes back to "
        "127.0.0.1 (ssh -L from a remote host). Default: device where the provider "
        "allows it",
    )
    lg.add_argument(
        "--qr",
        action="store_true",
        help="device flow: also draw the sign-in page as a QR code, for a phone",
    )
    from mailtui.setup_command import add_arguments  # argparse only: nothing else loads

    add_arguments(sub.add_parser("setup", help="set up an account from its email address"))
    return p


class _PrivateLog(logging.FileHandler):
    """The log file, readable by its owner only (0600), also when it existed before with
    a wider mode: it names accounts, servers and error texts."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
        except OSError:
            os.close(fd)
            raise
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers whose debug lines say nothing a bug report needs (one per SQLite call, …).
_QUIET = ("aiosqlite", "asyncio", "httpcore", "hpack", "markdown_it")


def _setup_logging(debug_log: Path | None = None) -> Path | None:
    """The log file (INFO and up); with ``debug_log`` also that file with everything
    down to DEBUG. Both pass through ``secrets.Redactor``."""
    from mailtui.secrets import Redactor

    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if debug_log is not None:
        debug: logging.Handler = _PrivateLog(debug_log, encoding="utf-8")
        debug.setFormatter(logging.Formatter(_FORMAT))
        debug.addFilter(Redactor())
        root.addHandler(debug)
        root.setLevel(logging.DEBUG)
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.INFO)
    try:
        logfile = paths.state_dir() / "mailtui.log"
        handler: logging.Handler = _PrivateLog(logfile, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(Redactor())
    root.addHandler(handler)
    return logfile




# ---------------------------------------------------------------------- commands


def _check_ui(config: Config) -> None:
    """``[ui]`` typos the reader cannot see (theme names, binding ids, keys) stop here,
    before anything opens; the UI modules load only for the UI."""
    from mailtui.ui import keymap_check, themes

    try:
        themes.check_name(config.ui.theme, _user_themes(config))
        keymap_check.check(config.ui.keys)
    except ConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}" if config.path else str(exc)) from None


def _user_themes(config: Config) -> Path:
    return (config.path or paths.config_file()).parent / "themes"




async def _cmd_ui(args: argparse.Namespace, config: Config) -> int:
    _check_ui(config)
    if not args.demo and not config.accounts and sys.stdin.isatty() and sys.stdout.isatty():
        from mailtui.setup_command import first_start  # the setup wizard, then the UI

        memory.resume_collections()  # the wizard waits for the user: no pause meanwhile
        started = await first_start(dataclasses.replace(config, path=_config_path(args)))
        if started == "demo":
            args.demo, config = True, Config(path=None)
        elif started == "saved":
            config = load_config(args)
    if not args.demo:
        ask_passwords(config, None)
    store = await open_store(args.demo)
    try:
        specs = await worker_specs(store, config, args.demo, None)
        if not specs:
            raise UserError(
                "no accounts configured: `mailtui setup --email ADDRESS --non-interactive` "
                f"adds one to {config.path or paths.config_file()}, or try `mailtui --demo`"
            )
        manager = SyncManager(store, specs)
        from mailtui.app import MailApp  # the UI is imported only here
        from mailtui.login import typed_password_accounts
        from mailtui.ui.bidi import resolve as resolve_bidi

        app = MailApp(
            store,
            manager,
            theme=config.ui.theme,
            title="mailtui",
            keymap=config.ui.keys,
            user_themes=_user_themes(config),
            state_dir=paths.state_dir(),
            bidi=resolve_bidi(config.ui.bidi, os.environ),
            bell=config.ui.bell,
            notify_new_mail=config.ui.notify,
            identities=_identities(config),
            mailto=getattr(args, "mailto", None),
            sign_in_accounts=_sign_in_accounts(config, args.demo),
            password_accounts=[] if args.demo else typed_password_accounts(config),
            config=None if args.demo else config,
        )
        try:
            await app.run_async()
        finally:
            await manager.stop()
        return int(app.return_code or 0)
    finally:
        await store.close()


def _sign_in_accounts(config: Config, demo: bool) -> dict[str, AccountConfig]:
    """The accounts the UI's sign-in key can sign in again (``login.signs_in``)."""
    from mailtui.login import signs_in

    return {} if demo else {acc.name: acc for acc in config.accounts if signs_in(acc)}


def _identities(config: Config) -> dict[str, list[Identity]]:
    """Each account's From addresses: its own first, then ``identities`` from the config."""
    from mailtui.compose import Identity

    out: dict[str, list[Identity]] = {}
    for acc in config.accounts:
        own = Identity(acc.email, acc.display_name)
        extra = [Identity(addr, name) for name, addr in acc.identities if addr != acc.email]
        out[acc.name] = [own, *extra]
    return out










async def _cmd_login(args: argparse.Namespace, config: Config) -> int:
    from mailtui.login import LoginError, login, unlock_secrets

    if args.demo:
        raise UserError("the demo account needs no sign-in")
    acc = config.account(args.account)
    try:
        unlock_secrets()
        await login(acc, args.flow, lambda line: print(line, flush=True), qr=args.qr)
    except LoginError as exc:
        raise UserError(str(exc)) from None
    return EXIT_OK


def _config_path(args: argparse.Namespace) -> Path:
    return args.config if args.config else paths.config_file()


def _setup_config(args: argparse.Namespace) -> Config:
    """The config ``mailtui setup`` adds to: an empty one when the file does not exist."""
    path: Path = args.config if args.config else paths.config_file()
    return accounts.load_config(path) if path.exists() else Config(path=path)


async def _cmd_setup(args: argparse.Namespace, config: Config) -> int:
    from mailtui.setup_command import run, wizard

    assert config.path is not None
    return await (run if args.non_interactive else wizard)(args, config, print)


def _split_mailto(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """``mailtui [options] mailto:…`` (what a browser or xdg-open runs): the URL is taken
    out before argparse, which would read it as a command."""
    rest = list(argv)
    for i, word in enumerate(rest):
        if word.lower().startswith("mailto:"):
            return rest[:i] + rest[i + 1 :], word
    return rest, None


def main(argv: Sequence[str] | None = None) -> int:
    memory.keep_big_blocks_mapped()  # before any sync buffer (mailtui/memory.py says why)
    argv, mailto = _split_mailto(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command is not None:
        memory.resume_collections()  # paused for start-up; the UI resumes after its paint
    args.mailto = mailto
    if mailto is not None and args.command is not None:
        print("mailtui: a mailto: link opens the composer; it takes no command", file=sys.stderr)
        return EXIT_USAGE
    try:
        logfile = _setup_logging(args.debug_log)
    except OSError as exc:
        print(f"mailtui: --debug-log {args.debug_log}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    commands: dict[
        str | None, Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]
    ] = {
        None: _cmd_ui,
        "sync": cmd_sync,
        "export": cmd_export,
        "send": cmd_send,
        "login": _cmd_login,
        "setup": _cmd_setup,
    }
    try:
        if args.command == "setup":
            config = _setup_config(args)
        elif args.demo and not args.config:
            config = Config(path=None)
        else:
            config = load_config(args)
        return asyncio.run(commands[args.command](args, config))
    except (UserError, ConfigError, StoreError, ExportError, DiscoveryError) as exc:
        print(f"mailtui: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        log.exception("I/O error")
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"mailtui: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # the user never sees a traceback; the log has it
        log.exception("unexpected error")
        hint = f"; details in {logfile}" if logfile else ""
        print(f"mailtui: internal error: {exc.__class__.__name__}: {exc}{hint}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())

"""Command line: ``mailtui`` (the UI), ``mailtui sync``, ``mailtui export``,
``mailtui send --outbox``, ``mailtui login ACCOUNT`` (OAuth2 sign-in, ``mailtui.login``),
``mailtui setup`` (``mailtui.setup_command``).

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
from mailtui.config import AccountConfig, Config
from mailtui.errors import ConfigError, DiscoveryError, ExportError, MailtuiError
from mailtui.models import OutboxState, counted
from mailtui.store import Store, StoreError
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.sync.manager import SyncManager, WorkerSpec

if TYPE_CHECKING:
    from mailtui.compose import Identity

log = logging.getLogger("mailtui")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: ``mailtui send < message``: queued in the outbox, not sent yet.
EXIT_QUEUED = 3


class UserError(MailtuiError):
    """Ends the program with this one line on stderr."""


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


def _load_config(args: argparse.Namespace) -> Config:
    path: Path = args.config if args.config else paths.config_file()
    if args.config and not path.exists():
        raise UserError(f"{path}: no such config file")
    return accounts.load_config(path)


async def _open_store(demo: bool) -> Store:
    path = paths.demo_dir() / "mail.sqlite" if demo else paths.database_file()
    return await Store.open(path)


async def _specs(store: Store, config: Config, demo: bool, only: str | None) -> list[WorkerSpec]:
    if demo:
        if only not in (None, accounts.DEMO_ACCOUNT):
            raise UserError(f"the demo has one account, {accounts.DEMO_ACCOUNT!r}")
        return [await accounts.demo_spec(store, paths.demo_dir())]
    return await accounts.specs(store, config, only)


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


def _ask_passwords(config: Config, only: str | None) -> None:
    """Secrets on a host without a keyring, asked in the terminal before the run
    (``mailtui.login.ask_for_secrets``)."""
    from mailtui.login import LoginError, ask_for_secrets

    try:
        ask_for_secrets(config, only)
    except LoginError as exc:
        raise UserError(str(exc)) from None


async def _cmd_ui(args: argparse.Namespace, config: Config) -> int:
    _check_ui(config)
    if not args.demo and not config.accounts and sys.stdin.isatty() and sys.stdout.isatty():
        from mailtui.setup_command import first_start  # the setup wizard, then the UI

        started = await first_start(dataclasses.replace(config, path=_config_path(args)))
        if started == "demo":
            args.demo, config = True, Config(path=None)
        elif started == "saved":
            config = _load_config(args)
    if not args.demo:
        _ask_passwords(config, None)
    store = await _open_store(args.demo)
    try:
        specs = await _specs(store, config, args.demo, None)
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


def _progress_printer(out: Callable[[str], None]) -> Callable[[SyncEvent], None]:
    def show(event: SyncEvent) -> None:
        if event.kind is EventKind.STATUS and event.status is not None:
            out(f"{event.account}: {_state_words(event.status, event.text)}")
        elif event.kind is EventKind.MESSAGES and event.added:
            done, total = event.progress
            out(f"{event.account}: +{counted(event.added, 'message')} ({done}/{total})")
        elif event.kind is EventKind.OP_FAILED:
            out(f"{event.account}: an action was refused by the server: {event.text}")

    return show


def _state_words(status: AccountStatus, text: str) -> str:
    """``connecting``, ``online: in step``, ``offline since 10:02: …``: the state once,
    then what the worker said about it, unless that already starts with it."""
    label = status.value.replace("_", " ")
    if not text or text == label:
        return label
    return text if text.startswith(label) else f"{label}: {text}"


async def _cmd_sync(args: argparse.Namespace, config: Config) -> int:
    if not args.demo:
        _ask_passwords(config, args.account)
    store = await _open_store(args.demo)
    try:
        specs = await _specs(store, config, args.demo, args.account)
        if not specs:
            raise UserError(
                "no accounts configured: `mailtui setup --email ADDRESS --non-interactive` "
                "adds one"
            )
        manager = SyncManager(store, specs)
        manager.add_listener(_progress_printer(lambda s: print(s, flush=True)))
        if args.once:
            results = await manager.run_once()
        else:
            try:
                results = await manager.run_forever()
            finally:
                await manager.stop()
        failed = [name for name, st in results.items() if st is not AccountStatus.ONLINE]
        for name in failed:
            print(f"{name}: not in step ({results[name].value})", file=sys.stderr)
        return EXIT_FAILED if failed else EXIT_OK
    finally:
        await store.close()


# ``export --fetch``: the body window of the fetching sync, in days: every message,
# whatever its date (a message without one is dated 1970).
_EVERY_BODY_DAYS = 1_000_000


def _export_account(args: argparse.Namespace, config: Config) -> str:
    """The account ``export`` writes: the one named, else the only one configured. With
    several and none named it asks which rather than guessing (one export is one
    account's folders; an mbox of several accounts could not be told apart)."""
    if args.demo:
        if args.account not in (None, accounts.DEMO_ACCOUNT):
            raise UserError(f"the demo has one account, {accounts.DEMO_ACCOUNT!r}")
        return accounts.DEMO_ACCOUNT
    if args.account:
        return config.account(args.account).name  # a clear error for an unknown name
    names = [a.name for a in config.accounts]
    if not names:
        raise UserError(
            f"no accounts configured in {config.path or paths.config_file()}: nothing to export"
        )
    if len(names) > 1:
        raise UserError(
            f"{len(names)} accounts are configured ({', '.join(names)}): "
            "say which to export with --account NAME"
        )
    return names[0]


async def _fetch_missing_bodies(
    store: Store, config: Config, args: argparse.Namespace, name: str
) -> str | None:
    """Syncs the account once with no age limit on bodies: the worker downloads every
    body not cached yet, the way it does in the background. Returns why it could not
    finish (None when in step). Progress goes to stderr, stdout keeps the summary."""
    specs = [
        dataclasses.replace(
            s, options=dataclasses.replace(s.options, body_days=_EVERY_BODY_DAYS)
        )
        for s in await _specs(store, config, args.demo, name)
    ]
    manager = SyncManager(store, specs)
    manager.add_listener(_progress_printer(lambda s: print(s, file=sys.stderr, flush=True)))
    results = await manager.run_once()
    status = results.get(name, AccountStatus.ERROR)
    if status is AccountStatus.ONLINE:
        return None
    return manager.status().get(name, (status, status.value))[1] or status.value


async def _cmd_export(args: argparse.Namespace, config: Config) -> int:
    from mailtui.export import export

    name = _export_account(args, config)
    if args.fetch and not args.demo:
        _ask_passwords(config, name)
    store = await _open_store(args.demo)
    try:
        not_fetched = await _fetch_missing_bodies(store, config, args, name) if args.fetch else None
        result = await export(
            store, name, folder=args.folder, maildir=args.maildir, mbox=args.mbox
        )
    finally:
        await store.close()
    missing = ""
    if result.headers_only and args.fetch:
        missing = (
            f"; {result.headers_only:,} bodies could not be downloaded, so those messages "
            "are not in the export"
        )
    elif result.headers_only:
        missing = (
            f"; {counted(result.headers_only, 'message')} "
            f"{'is' if result.headers_only == 1 else 'are'} not in it: only the headers are cached "
            "(`--fetch` downloads their bodies first)"
        )
    print(
        f"exported {counted(result.written, 'message')} from "
        f"{counted(result.folders, 'folder')}{missing}"
    )
    if not_fetched is not None:
        print(f"mailtui: {name}: could not download the missing bodies: {not_fetched}",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _cmd_send(args: argparse.Namespace, config: Config) -> int:
    if args.demo:
        raise UserError("the demo account cannot send mail")
    if not args.outbox:
        return await _send_piped(args, config)
    if args.recipients or args.from_headers or args.envelope_from:
        raise UserError("send --outbox sends what is queued; it takes no message or recipients")
    return await _flush_outboxes(args, config)


async def _send_piped(args: argparse.Namespace, config: Config) -> int:
    """``mailtui send [-t] [-f FROM] [RECIPIENT…] < message``: queued (committed), then
    sent. 0 sent; EXIT_QUEUED when it waits in the outbox; nothing queued otherwise."""
    from mailtui.sync import outbox, piped
    from mailtui.sync.outbox_config import identities

    if sys.stdin.isatty():
        raise UserError("send reads the message from standard input: mailtui send ADDR < FILE")
    raw = sys.stdin.buffer.read(piped.MAX_MESSAGE + 1)
    try:
        acc = piped.pick_account(config, args.account, raw, args.envelope_from)
        message = piped.prepare(
            raw,
            args.recipients,
            from_headers=args.from_headers,
            envelope_from=args.envelope_from,
            identity=identities(acc)[0],
        )
    except piped.NotQueued as exc:
        raise UserError(f"not queued: {exc}") from None
    _ask_passwords(config, acc.name)
    store = await _open_store(False)
    try:
        account = await store.ensure_account(acc.name, acc.kind, acc.email)
        sender = accounts.outbox_sender(store, account, acc)
        if sender is None:
            raise UserError(
                f"not queued: account {acc.name!r} has no [accounts.{acc.name}.smtp] "
                "settings to send with"
            )
        item_id = await outbox.queue(store, account.id, message)
        report = await sender.flush()
        mine = next((r for r in report.results if r.item_id == item_id), None)
        if mine is not None and mine.state is OutboxState.SENT:
            print(f"{acc.name}: {mine.text}")
            return EXIT_OK
        why = mine.text if mine is not None else report.stopped or "not sent yet"
        retried = mine is None or mine.state is OutboxState.QUEUED
        then = (
            "it is sent again with `mailtui send --outbox` or when mailtui runs"
            if retried
            else "retry or discard it in mailtui's outbox (O)"
        )
        print(f"mailtui: {acc.name}: queued, not sent: {why}; it waits in the outbox: {then}",
              file=sys.stderr)  # fmt: skip
        return EXIT_QUEUED
    finally:
        await store.close()


async def _flush_outboxes(args: argparse.Namespace, config: Config) -> int:
    """``mailtui send --outbox``: exit 0 only when nothing is left unsent."""
    from mailtui.sync import outbox

    _ask_passwords(config, args.account)
    configured = [config.account(args.account)] if args.account else list(config.accounts)
    store = await _open_store(False)
    try:
        unsent = 0
        for acc in configured:
            account = await store.ensure_account(acc.name, acc.kind, acc.email)
            said: list[SyncEvent] = []
            sender = accounts.outbox_sender(store, account, acc, said.append)
            if sender is None:
                waiting = sum(
                    i.state in outbox.UNSENT for i in await store.outbox(account.id)
                )
                if waiting:
                    print(
                        f"{acc.name}: {counted(waiting, 'message')} "
                        f"{'waits' if waiting == 1 else 'wait'}, but the account has no "
                        f"[accounts.{acc.name}.smtp] settings",
                        file=sys.stderr,
                    )
                    unsent += waiting
                continue
            report = await sender.flush()
            for r in report.results:
                line = f"{acc.name}: {r.subject!r}: {r.text}"
                print(line, file=sys.stdout if r.state is OutboxState.SENT else sys.stderr)
            if report.stopped:
                print(f"{acc.name}: not sending: {report.stopped}", file=sys.stderr)
            if any(e.kind == EventKind.NO_SENT_FOLDER for e in said):
                print(
                    f"{acc.name}: the account has no Sent folder; the copies wait in the "
                    "outbox until mailtui, when it next runs, creates one (it asks) or is "
                    "told to keep none",
                    file=sys.stderr,
                )
            unsent += report.unsent
        return EXIT_OK if unsent == 0 else EXIT_FAILED
    finally:
        await store.close()


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
        "sync": _cmd_sync,
        "export": _cmd_export,
        "send": _cmd_send,
        "login": _cmd_login,
        "setup": _cmd_setup,
    }
    try:
        if args.command == "setup":
            config = _setup_config(args)
        elif args.demo and not args.config:
            config = Config(path=None)
        else:
            config = _load_config(args)
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

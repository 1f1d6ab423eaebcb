"""``mailtui export``: every cached message of an account to a Maildir or an mbox, with
``--fetch`` the bodies not cached yet downloaded first."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from mailtui import accounts, paths
from mailtui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    ask_passwords,
    open_store,
    progress_printer,
    worker_specs,
)
from mailtui.config import Config
from mailtui.models import counted
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager

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
        dataclasses.replace(s, options=dataclasses.replace(s.options, body_days=_EVERY_BODY_DAYS))
        for s in await worker_specs(store, config, args.demo, name)
    ]
    manager = SyncManager(store, specs)
    manager.add_listener(progress_printer(lambda s: print(s, file=sys.stderr, flush=True)))
    results = await manager.run_once()
    status = results.get(name, AccountStatus.ERROR)
    if status is AccountStatus.ONLINE:
        return None
    return manager.status().get(name, (status, status.value))[1] or status.value


async def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from mailtui.export import export

    name = _export_account(args, config)
    if args.fetch and not args.demo:
        ask_passwords(config, name)
    store = await open_store(args.demo)
    try:
        not_fetched = await _fetch_missing_bodies(store, config, args, name) if args.fetch else None
        result = await export(store, name, folder=args.folder, maildir=args.maildir, mbox=args.mbox)
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
        print(
            f"mailtui: {name}: could not download the missing bodies: {not_fetched}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK

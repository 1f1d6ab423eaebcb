"""What the commands of ``mailtui`` share: exit codes, the one-line user error, the
config and store they open, the accounts' worker specs, secrets asked in the terminal and
the progress lines of a sync."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mailtui import accounts, paths
from mailtui.config import Config
from mailtui.errors import MailtuiError
from mailtui.models import counted
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.sync.manager import WorkerSpec

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: ``mailtui send < message``: queued in the outbox, not sent yet.
EXIT_QUEUED = 3


class UserError(MailtuiError):
    """Ends the program with this one line on stderr."""


def load_config(args: argparse.Namespace) -> Config:
    path: Path = args.config if args.config else paths.config_file()
    if args.config and not path.exists():
        raise UserError(f"{path}: no such config file")
    return accounts.load_config(path)


async def open_store(demo: bool) -> Store:
    path = paths.demo_dir() / "mail.sqlite" if demo else paths.database_file()
    return await Store.open(path)


async def worker_specs(
    store: Store, config: Config, demo: bool, only: str | None
) -> list[WorkerSpec]:
    if demo:
        if only not in (None, accounts.DEMO_ACCOUNT):
            raise UserError(f"the demo has one account, {accounts.DEMO_ACCOUNT!r}")
        return [await accounts.demo_spec(store, paths.demo_dir())]
    return await accounts.specs(store, config, only)


def ask_passwords(config: Config, only: str | None) -> None:
    """Secrets on a host without a keyring, asked in the terminal before the run
    (``mailtui.login.ask_for_secrets``)."""
    from mailtui.login import LoginError, ask_for_secrets

    try:
        ask_for_secrets(config, only)
    except LoginError as exc:
        raise UserError(str(exc)) from None


def progress_printer(out: Callable[[str], None]) -> Callable[[SyncEvent], None]:
    def show(event: SyncEvent) -> None:
        if event.kind is EventKind.STATUS and event.status is not None:
            out(f"{event.account}: {state_words(event.status, event.text)}")
        elif event.kind is EventKind.MESSAGES and event.added:
            done, total = event.progress
            out(f"{event.account}: +{counted(event.added, 'message')} ({done}/{total})")
        elif event.kind is EventKind.OP_FAILED:
            out(f"{event.account}: an action was refused by the server: {event.text}")

    return show


def state_words(status: AccountStatus, text: str) -> str:
    """``connecting``, ``online: in step``, ``offline since 10:02: …``: the state once,
    then what the worker said about it, unless that already starts with it."""
    label = status.value.replace("_", " ")
    if not text or text == label:
        return label
    return text if text.startswith(label) else f"{label}: {text}"

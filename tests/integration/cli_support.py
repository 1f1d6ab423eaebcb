"""Running the `mailtui` command in a test: an IMAP account's config, the environment of
a home directory, the run itself, and a message queued in the home's outbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from mailtui.compose import build_message
from mailtui.models import AccountKind, FolderRole, RemoteFolder
from mailtui.store import Store
from mailtui.sync import outbox
from tests.integration.smtp_support import account_config, draft
from tests.servers import MailUser
from tests.servers.cli import ROOT, run_mailtui

__all__ = ["ROOT", "home_env", "imap_account_toml", "mailtui", "queue_one"]


def imap_account_toml(user: MailUser) -> str:
    """The config table `[accounts.work]`: ``user``'s IMAPS login, its sign-in not yet."""
    return f"""[accounts.work]
kind = "imap"
email = "{user.email}"
username = "{user.name}"
host = "{user.host}"
port = {user.imaps_port}
ca_file = "{user.ca_path}"
"""


def home_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `mailtui` run whose config, data and state are in ``home``."""
    return {
        **os.environ,
        "MAILTUI_DATA_DIR": str(home / "data"),
        "MAILTUI_STATE_DIR": str(home / "state"),
        "MAILTUI_CONFIG": str(home / "config.toml"),
        **extra,
    }


def mailtui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mailtui ARGS` from the checkout, no terminal, output captured, 60 s at most."""
    return run_mailtui(env, *args, timeout=60)


def queue_one(home: Path, user: MailUser, to: str, subject: str) -> None:
    """A message from ``user`` to ``to`` in the outbox of the store in ``home``."""

    async def run() -> None:
        acc = account_config(user)
        async with await Store.open(home / "data" / "mail.sqlite") as store:
            account = await store.ensure_account("work", AccountKind.IMAP, user.email)
            await store.sync_folders(account.id, [RemoteFolder("INBOX", "INBOX", FolderRole.INBOX)])
            msg = build_message(draft(acc, to, subject=subject, attachments=()))
            await outbox.queue(store, account.id, msg)

    asyncio.run(run())

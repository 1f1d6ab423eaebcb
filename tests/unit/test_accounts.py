"""The composition root: accounts are built through their kind, send the way their kind
sends, and load only the code they need."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from mailtui import accounts
from mailtui.config import AccountConfig, SmtpConfig
from mailtui.errors import ConfigError
from mailtui.models import AccountKind, FolderRole, OpKind
from mailtui.protocols.kinds import KINDS
from mailtui.store import Store
from mailtui.sync.contract import (
    AccountStateAccess,
    EventKind,
    Original,
    Sending,
    Submission,
    SyncEvent,
)

ROOT = Path(__file__).resolve().parents[2]
SMTP = SmtpConfig(host="smtp.example.org", port=587, security="starttls", username="ann")


def account(kind: AccountKind, name: str = "w", smtp: SmtpConfig | None = None) -> AccountConfig:
    return AccountConfig(
        name=name,
        kind=kind,
        email="ann@example.org",
        username="ann",
        host="mail.example.org",
        port=993,
        security="tls",
        smtp=smtp,
    )


async def test_a_kind_without_a_builder_is_refused_before_anything_is_added(
    store: Store,
) -> None:
    """Every configurable kind has a builder today; a kind described before its backend
    exists (as POP3 and Exchange were) is refused with a clear message."""
    from mailtui.protocols.kinds import KINDS

    kinds = {**KINDS, "exchange": dataclasses.replace(KINDS["exchange"], build=None)}
    with pytest.raises(ConfigError) as info:
        await accounts.specs_for(
            store,
            [account(AccountKind.IMAP, "a"), account(AccountKind.EXCHANGE, "b")],
            kinds=kinds,
        )
    assert str(info.value) == (
        "account 'b': exchange accounts are not supported by this version of mailtui "
        "yet (try `mailtui --demo`)"
    )
    assert await store.accounts() == []


async def test_pop3_accounts_get_a_pop3_backend_with_their_download_options(
    store: Store,
) -> None:
    acc = dataclasses.replace(
        account(AccountKind.POP3, "home"), leave_on_server=False, max_message_kb=64
    )
    (spec,) = await accounts.specs_for(store, [acc])
    from mailtui.protocols.pop3.backend import Pop3Backend

    backend = spec.factory()
    assert isinstance(backend, Pop3Backend)
    assert backend.capabilities.local and backend.capabilities.sole_copy
    assert backend.keeping.max_bytes == 64 * 1024


async def test_exchange_accounts_get_an_activesync_backend(store: Store) -> None:
    (spec,) = await accounts.specs_for(store, [account(AccountKind.EXCHANGE, "corp")])
    from mailtui.protocols.eas.backend import EasBackend

    assert isinstance(spec.factory(), EasBackend)


async def test_imap_accounts_get_a_backend_factory_and_a_sender_with_smtp(store: Store) -> None:
    plain, sending = await accounts.specs_for(
        store, [account(AccountKind.IMAP, "plain"), account(AccountKind.IMAP, "sends", SMTP)]
    )
    assert [a.name for a in await store.accounts()] == ["plain", "sends"]
    assert plain.sender is None and sending.sender is not None
    assert sending.options.poll_interval == 300 and sending.options.body_days == 30
    from mailtui.protocols.imap.backend import ImapBackend

    assert isinstance(sending.factory(), ImapBackend)
    from mailtui.sync.outbox import OutboxSender

    outbox = sending.sender(lambda _e: None, lambda: None)
    assert isinstance(outbox, OutboxSender) and outbox.file_sent


async def test_the_sender_follows_the_kind(store: Store) -> None:
    acc = account(AccountKind.IMAP, smtp=SMTP)
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    imap = accounts.outbox_sender(store, row, acc)
    assert imap is not None and imap.file_sent
    no_copy = dataclasses.replace(acc, smtp=dataclasses.replace(SMTP, copy_to_sent=False))
    sender = accounts.outbox_sender(store, row, no_copy)
    assert sender is not None and not sender.file_sent
    assert sender.unfiled_notice == "Sent · the server keeps the copy"
    # POP3 files its copy in the local Sent folder (Capabilities.local: done in the store).
    pop3 = accounts.outbox_sender(store, row, account(AccountKind.POP3, smtp=SMTP))
    assert pop3 is not None and pop3.file_sent
    assert accounts.outbox_sender(store, row, account(AccountKind.IMAP)) is None
    # Exchange sends through the server (SendMail): its own submission, no Sent to file in.
    eas = accounts.outbox_sender(store, row, account(AccountKind.EXCHANGE))
    assert eas is not None and not eas.file_sent
    assert eas.unfiled_notice == "Sent · the server keeps the copy"


class Recorded:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    async def submit(
        self,
        mail_from: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Callable[[], Awaitable[None]] | None = None,
        original: Original | None = None,
    ) -> str:
        if before_data is not None:
            await before_data()
        self.sent.append((mail_from, tuple(recipients)))
        return "250 queued"

    async def close(self) -> None:
        pass


async def test_a_kind_that_sends_through_its_backend_gets_its_submission(store: Store) -> None:
    """A kind with ``Sending.BACKEND`` (EAS SendMail): the outbox sender submits through
    what the kind opens, and an [smtp] table plays no part."""
    recorded = Recorded()
    opened: list[str] = []

    def submission(
        acc: AccountConfig, state: AccountStateAccess
    ) -> Callable[[], Awaitable[Submission]]:
        async def open_() -> Submission:
            opened.append(acc.name)
            # The kind's submission reads and adds to the account's sync state.
            assert await state.setdefault("device_id", "first") == "first"
            assert await state.setdefault("device_id", "second") == "first"
            assert await state.load() == {"device_id": "first"}
            return recorded

        return open_

    backend_sends = dataclasses.replace(
        KINDS["imap"], sending=Sending.BACKEND, submission=submission, files_sent=False
    )
    kinds = {**KINDS, "imap": backend_sends}
    acc = account(AccountKind.IMAP, "eas")
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    sender = accounts.outbox_sender(store, row, acc, kinds=kinds)
    assert sender is not None
    await store.outbox_add(row.id, b"Subject: hi\r\n\r\nhello\r\n", "ann@example.org", ["b@x.org"])
    report = await sender.flush()
    assert report.all_sent, report
    assert opened == ["eas"] and not sender.file_sent  # the server files its copy
    assert recorded.sent == [("ann@example.org", ("b@x.org",))]
    assert (
        accounts.outbox_sender(
            store,
            row,
            acc,
            kinds={**KINDS, "imap": dataclasses.replace(backend_sends, submission=None)},
        )
        is None
    )


async def test_a_local_kind_files_sent_mail_in_a_sent_folder_it_makes(store: Store) -> None:
    """A local kind (``KindSpec.local``, POP3) always has its Sent folder: the sender
    makes it in the store if no sync has yet, and never asks for one."""
    recorded = Recorded()

    def submission(
        acc: AccountConfig, state: AccountStateAccess
    ) -> Callable[[], Awaitable[Submission]]:
        async def open_() -> Submission:
            return recorded

        return open_

    local = dataclasses.replace(
        KINDS["imap"], sending=Sending.BACKEND, submission=submission, local=True
    )
    acc = account(AccountKind.IMAP, "pop")
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    events: list[SyncEvent] = []
    sender = accounts.outbox_sender(store, row, acc, events.append, kinds={"imap": local})
    assert sender is not None and sender.file_sent and sender.local_folders
    await store.outbox_add(row.id, b"Subject: hi\r\n\r\nhello\r\n", "ann@example.org", ["b@x.org"])
    assert (await sender.flush()).all_sent
    sent = [f for f in await store.folders(row.id) if f.role is FolderRole.SENT]
    assert [f.name for f in sent] == ["Sent"]
    [op] = await store.pending_ops(row.id, 10)
    assert (op.kind, op.payload["folder"]) == (OpKind.APPEND, sent[0].id)
    assert [e.text for e in events if e.kind is EventKind.SENT] == ["Sent · copy in Sent"]
    assert not [e for e in events if e.kind is EventKind.NO_SENT_FOLDER]
    unfiled = dataclasses.replace(local, files_sent=False)
    assert accounts._unfiled_notice(unfiled) == "Sent · no copy kept (copy_to_sent = false)"


def run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_demo_loads_no_imap_or_smtp_code(tmp_path: Path) -> None:
    run(
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from mailtui import accounts, cli\n"
        "from mailtui.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open(Path({str(tmp_path)!r}) / 'mail.sqlite')\n"
        f"    spec = await accounts.demo_spec(store, Path({str(tmp_path)!r}), count=5)\n"
        "    spec.factory()\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "loaded = [m for m in ('mailtui.protocols.imap.backend', 'mailtui.protocols.smtp',\n"
        "    'aiosmtplib') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert 'mailtui.protocols.demo.backend' in sys.modules\n"
    )


def test_the_registry_loads_no_backend() -> None:
    run(
        "import sys\n"
        "from mailtui.protocols import kinds\n"
        "from mailtui import accounts\n"
        "assert kinds.KINDS['imap'].options\n"
        "loaded = [m for m in sys.modules if m.endswith('.backend') or m.endswith('.smtp')]\n"
        "assert not loaded, loaded\n"
    )


def test_building_the_workers_loads_no_smtp_code(tmp_path: Path) -> None:
    """The sender of an account with an [smtp] table is assembled, but its SMTP code
    loads only when the manager builds the sender."""
    run(
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from mailtui import accounts\n"
        "from mailtui.config import AccountConfig, SmtpConfig\n"
        "from mailtui.models import AccountKind\n"
        "from mailtui.store import Store\n"
        "smtp = SmtpConfig(host='s', port=587, security='starttls', username='u')\n"
        "acc = AccountConfig('w', AccountKind.IMAP, 'a@b.c', 'u', 'h', 993, 'tls', smtp=smtp)\n"
        "async def main():\n"
        f"    store = await Store.open(Path({str(tmp_path)!r}) / 'mail.sqlite')\n"
        "    [spec] = await accounts.specs_for(store, [acc])\n"
        "    assert spec.sender is not None\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "loaded = [m for m in ('mailtui.sync.outbox', 'aiosmtplib') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )

"""Which backend serves which account kind: the one place that maps config to protocol.

Protocol backends arrive issue by issue (IMAP, POP3, Exchange); until a kind has one, an
account of that kind is refused with a clear message instead of starting half-working.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mailtui.config import AccountConfig
from mailtui.errors import ConfigError
from mailtui.models import Account
from mailtui.store import Store
from mailtui.sync.contract import Backend, SyncEvent
from mailtui.sync.manager import WorkerSpec
from mailtui.sync.worker import WorkerOptions

if TYPE_CHECKING:
    from mailtui.sync.outbox import OutboxSender

BackendBuilder = Callable[[AccountConfig], Backend]



def _imap(acc: AccountConfig) -> Backend:
    # Imported on first use: only accounts that need the IMAP code load it.
    from mailtui.protocols.imap import build

    return build(acc)


# kind -> builder; filled by the protocol modules as they land.
BUILDERS: dict[str, BackendBuilder] = {"imap": _imap}


async def specs_for(store: Store, accounts: Sequence[AccountConfig]) -> list[WorkerSpec]:
    specs: list[WorkerSpec] = []
    for acc in accounts:
        builder = BUILDERS.get(acc.kind.value)
        if builder is None:
            raise ConfigError(
                f"account {acc.name!r}: {acc.kind.value} accounts are not supported by this "
                "version of mailtui yet (try `mailtui --demo`)"
            )
        account = await store.ensure_account(acc.name, acc.kind, acc.email)
        options = WorkerOptions(poll_interval=acc.poll_interval, body_days=acc.body_days)
        sender = functools.partial(_sender, store, account, acc) if acc.smtp else None
        specs.append(
            WorkerSpec(
                account=account,
                factory=functools.partial(builder, acc),
                options=options,
                sender=sender,
            )
        )
    return specs


def _sender(
    store: Store,
    account: Account,
    acc: AccountConfig,
    emit: Callable[[SyncEvent], None],
    on_sent: Callable[[], None],
) -> OutboxSender:
    """The account's outbox sender over SMTP (accounts with an ``smtp`` table)."""
    # Imported here: SMTP (aiosmtplib, email) is start-up time a sync does not need.
    from mailtui.sync.outbox import OutboxSender, connector, files_sent_copy

    return OutboxSender(
        store,
        account,
        connector(acc),
        file_sent=files_sent_copy(acc),
        emit=emit,
        on_sent=on_sent,
    )

"""The download ledger as a backend reads it (``DownloadLedger`` of the contract), over
the store: backends never import the store, the worker hands them this."""

from __future__ import annotations

from collections.abc import Sequence

from mailtui.models import Downloaded
from mailtui.store import Store
from mailtui.sync.contract import Backend, LedgerUser


class StoreLedger:
    """One account's ledger in ``store`` (``mailtui/store/downloads.py``)."""

    def __init__(self, store: Store, account_id: int) -> None:
        self._store = store
        self._account = account_id

    async def lookup(self, server_ids: Sequence[str]) -> dict[str, Downloaded]:
        rows = await self._store.downloads(self._account, server_ids)
        return {row.server_id: row for row in rows}

    async def by_key(self, keys: Sequence[str]) -> list[Downloaded]:
        return await self._store.downloads_by_key(self._account, keys)

    async def listed(self) -> list[str]:
        return await self._store.downloads_listed(self._account)

    async def before_deleting(self, server_ids: Sequence[str]) -> None:
        await self._store.downloads_deleting(self._account, server_ids)


def hand_ledger(backend: Backend, store: Store, account_id: int) -> None:
    """Give a backend that reads the ledger (``LedgerUser``) its account's."""
    if isinstance(backend, LedgerUser):
        backend.use_ledger(StoreLedger(store, account_id))

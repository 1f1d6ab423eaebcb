"""The pull of a POP3 maildrop into INBOX: what is new, newest first, in batches that
carry their ledger rows (``FolderBatch.ledger``).

    UIDL + LIST ─▶ ledger look-up ─▶ batch 1: the newest 500 new messages as headers
    (TOP n 0, pipelined), ids the server no longer lists marked gone, messages under a
    new UIDL adopted; on a first download, the whole listing (``FolderBatch.listing``)
    ─▶ batches of about 16 MB: bodies (RETR, pipelined) of those and of the rest;
    above the size limit, headers only

Between two batches the worker may ask for a window of a first download (``window``:
the rows the list shows as placeholders): their headers (TOP n 0) come as header rows
with their ledger rows, exactly like the first batch's, and the pass brings their
bodies in its turn, never their headers again.

Nothing is ever removed from the store here: a message the server no longer lists may
exist only here. A batch yielded is committed by the worker while the next is fetched;
deletions wait for ``settle`` (backend.py), which reads the committed ledger.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mailtui.mime import header_envelope, parse_envelope
from mailtui.models import (
    Downloaded,
    Envelope,
    FolderBatch,
    LedgerChange,
    NewMessage,
    RemoteFolder,
)
from mailtui.protocols.pop3.client import MAX_MESSAGE, Fetched
from mailtui.protocols.pop3.policy import Keeping, content_id, content_key, header_of
from mailtui.protocols.pop3.session import Session
from mailtui.sync.contract import DownloadLedger

#: New messages shown as headers first, before any body.
FIRST_SCREEN = 500
#: Bytes of messages per body batch (LIST sizes), and messages per header-only batch.
BATCH_BYTES = 16 << 20
HEADER_BATCH = 2000
_LOOKUP = 1000  # server ids per ledger look-up


@dataclass(slots=True)
class _Todo:
    """A message of this pull: ``listed`` once its header row is committed."""

    number: int
    server_id: str
    size: int
    listed: bool = False


def _envelope(env: Envelope, size: int, now: int) -> Envelope:
    """The size LIST gave (the whole message's, also for a header-only row), and the
    download time for a message without a usable Date."""
    return dataclasses.replace(env, size=size, date=env.date or now)


def _headers_of(headers: list[bytes]) -> list[Envelope]:
    return [header_envelope(h) for h in headers]


def _envelopes_of(raws: list[bytes]) -> list[Envelope]:
    return [parse_envelope(r) for r in raws]


def _parse(items: list[tuple[bytes, bool]]) -> list[Envelope]:
    """Envelopes in a thread: of whole messages, or (False) of headers alone."""
    return [parse_envelope(raw) if whole else header_envelope(raw) for raw, whole in items]


class Pull:
    """One pull of INBOX over an open session."""

    def __init__(
        self,
        folder: RemoteFolder,
        session: Session,
        ledger: DownloadLedger,
        keeping: Keeping,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self.session = session
        self.ledger = ledger
        self.keeping = keeping
        self.clock = clock
        #: Server ids left header-only by the size limit: the body phase skips them.
        self.header_only: set[str] = set()
        #: New messages no batch has carried yet, by server id: what ``window`` may
        #: fetch out of the pass's order.
        self._waiting: dict[str, _Todo] = {}
        self._progress = (0, 0)

    def _now(self) -> int:
        return int(self.clock())

    def _too_big(self, size: int) -> bool:
        return self.keeping.header_only(size, MAX_MESSAGE)

    async def run(self, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        if not self.session.has_uidl:
            async for batch in self._without_uidl():
                yield batch
            return
        s = self.session
        numbers = sorted(s.ids, reverse=True)  # newest first
        known: dict[str, Downloaded] = {}
        for i in range(0, len(numbers), _LOOKUP):
            known.update(await self.ledger.lookup([s.ids[n] for n in numbers[i : i + _LOOKUP]]))
        listed_now = set(s.ids.values())
        vanished = set(await self.ledger.listed()) - listed_now
        # Those whose DELE was sent left because of us; only the others may come back
        # under a new UIDL (a server that lost them), and be adopted by content key.
        lost = {
            sid
            for sid, row in (await self.ledger.lookup(sorted(vanished))).items()
            if not row.dele_sent
        }
        new = [_Todo(n, s.ids[n], s.sizes[n]) for n in numbers if s.ids[n] not in known]
        # Rows of an interrupted pull: listed as headers, their bodies still to come
        # (not for a message the user deleted here meanwhile: no row to take it).
        unfinished = [
            _Todo(n, s.ids[n], s.sizes[n], listed=True)
            for n in numbers
            if (row := known.get(s.ids[n])) is not None
            and not row.whole
            and not row.deleted_here
        ]
        self.header_only = {t.server_id for t in unfinished if self._too_big(t.size)}
        first = FolderBatch(self.folder.name, state={"uidl": True})
        if not state and not known and not vanished:
            # A first download (nothing committed yet): every message the server lists
            # is one this pass adds, so the list can show the whole INBOX with
            # placeholders (``sync/window.py``). A resumed one has rows cached already
            # that the listing would count twice: not told, as for IMAP.
            first.listing = [s.ids[n] for n in numbers]
        # A server that lost its UIDLs lists known messages under new ids: every new one
        # is looked at (its header) before anything is downloaded, so none comes twice.
        heads = new if lost else new[:FIRST_SCREEN]
        adopted = await self._headers(heads, lost, first)
        new = [t for t in new if t.server_id not in adopted]
        first.ledger += [
            LedgerChange(sid, gone=True) for sid in sorted(vanished - set(adopted.values()))
        ]
        todo = sorted(
            [t for t in new + unfinished if t.server_id not in self.header_only],
            key=lambda t: t.number,
            reverse=True,
        )
        # Progress in messages: one is done once its body (or, above the limit, its
        # header) is in.
        done = sum(1 for m in first.added if m.remote_id in self.header_only)
        total = done + len(todo)
        first.progress = self._progress = (done, total)
        if not todo:
            first.complete = True
            yield first
            return
        self._waiting = {t.server_id: t for t in todo if not t.listed}
        yield first
        for chunk in self._chunks(todo):
            for t in chunk:  # this batch's now, whatever happens to it
                self._waiting.pop(t.server_id, None)
            out = FolderBatch(self.folder.name, state={"uidl": True})
            await self._fill(chunk, out)
            done += len(chunk)
            out.progress = self._progress = (done, total)
            out.complete = chunk[-1] is todo[-1]
            yield out

    async def _headers(
        self, heads: list[_Todo], vanished: set[str], batch: FolderBatch
    ) -> dict[str, str]:
        """TOP n 0 of ``heads``: rows for the new ones into ``batch`` (header only),
        adopting those the ledger knows under an id the server no longer lists. Returns
        new id → old id of the adopted."""
        adopted: dict[str, str] = {}
        if not heads:
            return adopted
        now = self._now()
        by_number = {t.number: t for t in heads}
        got: list[tuple[_Todo, bytes]] = []
        async for f in self.session.client.retrieve([t.number for t in heads], top_lines=0):
            if f.data is not None:
                got.append((by_number[f.number], f.data))
        envs = await asyncio.to_thread(_headers_of, [h for _, h in got])
        keys = [
            content_key(e.message_id, header_of(h), t.size)
            for (t, h), e in zip(got, envs, strict=True)
        ]
        old: dict[str, list[str]] = {}
        if vanished:
            for row in await self.ledger.by_key(keys):
                if row.server_id in vanished:
                    old.setdefault(row.key, []).append(row.server_id)
        for (t, _), env, key in zip(got, envs, keys, strict=True):
            if old.get(key):
                was = old[key].pop()
                adopted[t.server_id] = was
                batch.ledger.append(LedgerChange(t.server_id, was=was))
                continue
            t.listed = True
            if self._too_big(t.size):
                self.header_only.add(t.server_id)
            batch.added.append(NewMessage(t.server_id, _envelope(env, t.size, now)))
            batch.ledger.append(LedgerChange(t.server_id, downloaded_at=now, key=key))
        return adopted

    async def window(self, server_ids: Sequence[str]) -> FolderBatch:
        """Header rows (TOP n 0) of those of ``server_ids`` no batch carried yet, with
        their ledger rows, between two batches: the window the user scrolled to. Each
        is then a listed row of this pass (its body comes with its batch, as for the
        first screen's); one a batch carried already (committed or still queued for
        its commit) is left out, so nothing is fetched twice."""
        out = FolderBatch(self.folder.name, progress=self._progress)
        heads = [
            t
            for sid in dict.fromkeys(server_ids)
            if (t := self._waiting.get(sid)) is not None and not t.listed
        ]
        await self._headers(heads, set(), out)
        for t in heads:
            self._waiting.pop(t.server_id, None)
        return out

    def _chunks(self, todo: Sequence[_Todo]) -> list[list[_Todo]]:
        chunks: list[list[_Todo]] = []
        current: list[_Todo] = []
        size = 0
        for t in todo:
            cost = t.size if not self._too_big(t.size) else 0
            if current and (size + cost > BATCH_BYTES or len(current) >= HEADER_BATCH):
                chunks.append(current)
                current, size = [], 0
            current.append(t)
            size += cost
        if current:
            chunks.append(current)
        return chunks

    async def _fill(self, todo: list[_Todo], out: FolderBatch) -> None:
        """Bodies (RETR) of ``todo``'s messages, headers (TOP) of those too big, as rows
        or bodies of rows already listed, with their ledger rows."""
        now = self._now()
        whole = [t for t in todo if not self._too_big(t.size)]
        heads = [t for t in todo if self._too_big(t.size) and not t.listed]
        raws = await self._retrieve(whole, None)
        tops = await self._retrieve(heads, 0)
        fresh = [(t, raw, True) for t, raw in raws if not t.listed]
        fresh += [(t, raw, False) for t, raw in tops]
        envs = await asyncio.to_thread(_parse, [(raw, w) for _, raw, w in fresh])
        for t, raw in raws:
            if t.listed:
                out.bodies.append((t.server_id, raw))
                out.ledger.append(LedgerChange(t.server_id, whole=True))
        for (t, raw, w), env in zip(fresh, envs, strict=True):
            key = content_key(env.message_id, header_of(raw), t.size)
            if not w:
                self.header_only.add(t.server_id)
            out.added.append(
                NewMessage(t.server_id, _envelope(env, t.size, now), raw=raw if w else None)
            )
            out.ledger.append(LedgerChange(t.server_id, downloaded_at=now, whole=w, key=key))

    async def _retrieve(
        self, todo: list[_Todo], top_lines: int | None
    ) -> list[tuple[_Todo, bytes]]:
        """RETR (or TOP) pipelined, the whole answer read before the batch is yielded (a
        body the user asks for between two batches needs the connection). A message the
        server refuses (another client deleted it) is left out."""
        if not todo:
            return []
        by_number = {t.number: t for t in todo}
        got: list[tuple[_Todo, bytes]] = []
        fetched: Fetched
        async for fetched in self.session.client.retrieve(
            [t.number for t in todo], top_lines=top_lines
        ):
            if fetched.data is not None:
                got.append((by_number[fetched.number], fetched.data))
        return got

    async def _without_uidl(self) -> AsyncIterator[FolderBatch]:
        """A server without UIDL (the account deletes after download): every message is
        downloaded whole and known by the hash of its bytes; one already in the ledger
        (committed before a session that did not reach QUIT) is not stored again, only
        deleted by ``settle``."""
        s = self.session
        numbers = sorted(s.sizes, reverse=True)
        # Too big to take at all: left on the server, never deleted.
        todo = [_Todo(n, "", s.sizes[n]) for n in numbers if s.sizes[n] <= MAX_MESSAGE]
        total, done = len(todo), 0
        chunks = self._chunks(todo)
        if not chunks:
            yield FolderBatch(self.folder.name, state={"uidl": False}, complete=True)
            return
        for chunk in chunks:
            now = self._now()
            raws = await self._retrieve(chunk, None)
            for t, raw in raws:
                t.server_id = content_id(raw)
                s.note(t.number, t.server_id)
            known = await self.ledger.lookup([t.server_id for t, _ in raws])
            fresh = [(t, raw) for t, raw in raws if t.server_id not in known]
            envs = await asyncio.to_thread(_envelopes_of, [r for _, r in fresh])
            out = FolderBatch(self.folder.name, state={"uidl": False})
            for (t, raw), env in zip(fresh, envs, strict=True):
                out.added.append(NewMessage(t.server_id, _envelope(env, t.size, now), raw=raw))
                key = content_key(env.message_id, header_of(raw), t.size)
                out.ledger.append(LedgerChange(t.server_id, downloaded_at=now, whole=True, key=key))
            done += len(chunk)
            out.progress = (done, total)
            out.complete = chunk is chunks[-1]
            yield out

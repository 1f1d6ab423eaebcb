"""Pull: the folder list, then each folder's changes in batches (``ImapBackend.pull``).

Folder sync state (JSON, kept by the store, committed with each batch)::

    uidvalidity   the folder's UIDVALIDITY when the state was written
    uidnext       every UID below it has been seen (new mail is UID >= uidnext)
    modseq        HIGHESTMODSEQ at the last complete pull (0 without CONDSTORE)
    partial       true while the first full pull of the folder is still running
    uids          without QRESYNC only: the UIDs the cache holds, as a sequence set,
                  to find messages expunged by other clients

Pull, per folder:

- LIST-STATUS already told UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ: all equal to the state →
  nothing changed, no SELECT at all (the no-change resync costs one LIST per account);
  not for the folder the connection has selected, whose STATUS may be stale.
- New folder or changed UIDVALIDITY: ``reset`` (a changed one), then the newest 100
  envelopes by sequence number with the UID listing (``UID SEARCH ALL``), then by UID
  the next 500, the oldest 500, then the rest newest first, 2000 per batch.
- The first folder list of a connection is preceded by ``SELECT INBOX``, which INBOX's
  pull right after it uses (``_preselect``).
- Otherwise QRESYNC: ``SELECT (QRESYNC (uidvalidity modseq))`` returns ``VANISHED`` and
  changed flags; new UIDs come from ``UID SEARCH UID uidnext:*``. Without QRESYNC: all
  UIDs and flags (``UID FETCH 1:* (FLAGS)``), compared with ``uids``.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Final

from mailtui.errors import OpRejected, TransientError
from mailtui.models import (
    Flag,
    FolderBatch,
    NewMessage,
    RawMessage,
    RemoteFolder,
)
from mailtui.pacing import between_keys
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.bodies import BODY_ITEMS
from mailtui.protocols.imap.client import Selected
from mailtui.protocols.imap.connection import CommandFailed, Pending
from mailtui.protocols.imap.first_screen import send_listing, send_newest
from mailtui.protocols.imap.folder_list import FolderList
from mailtui.protocols.imap.folders import (
    MailboxStatus,
)
from mailtui.protocols.imap.messages import (
    ENVELOPE_FIELDS,
    RAW_ANSWER,
    batch_of,
    flags_from,
    header_item,
    imap_date,
    parse_batch,
    remote_id,
    split_remote_id,
)
from mailtui.protocols.imap.search import UidListing
from mailtui.protocols.imap.search_answer import (
    highest_first,
    search_answer,
    search_uids,
    uid_array,
    uid_search,
)
from mailtui.protocols.imap.wire import (
    Arg,
    ProtocolError,
    as_int,
    as_list,
    fetch_dict,
    parse_uid_set,
    uid_set,
)

FIRST_BATCH = 500  # the first screenful of a folder, as fast as possible
#: A first pass asks for the newest this many by sequence number right after SELECT,
#: before it lists the folder's UIDs (docs/decisions.md, "First contact: the screen first").
SCREEN = 100
PIPELINE = 2  # FETCH commands of a first pass on the wire at once
BATCH = 2000
#: A first pass of more than two screens fetches the oldest screen second (the end key
#: finds it before the user presses it); without it, the window on demand fetches it.
OLDEST_EARLY = True
# Only the header fields the envelope is made of (``mime.header_envelope``; Content-Type
# for the attachment guess): a server answers them from its cache, where the whole
# header means reading every message file (docs/decisions.md, "First contact: header
# fields, not the header").
ENVELOPE_ITEMS = (
    b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (" + ENVELOPE_FIELDS + b")])"
)
# Messages inside the body window come whole with their envelope (one pass instead of a
# header pass and a body pass; docs/decisions.md, "IMAP: one pass for the body window").
WHOLE_ITEMS = b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
#: Bytes of whole messages a batch aims at (the batch is held in memory until committed);
#: the batch length follows the average message size seen so far.
WHOLE_BATCH_BYTES = 16 << 20
_GUESSED_SIZE = 50_000


#: The one thread every envelope parse runs in, a batch at a time. Two batches parsed at
#: once (the default executor's threads, until 2026-12-05) only took turns at the GIL,
#: and the writer thread, a first pass's critical path, waited behind one more thread
#: for it after each statement: eight alternating pairs at 100,000 messages, all
#: envelopes (medians) 2.275 s against 2.22 s with this one, never slower (docs/
#: decisions.md, "One parse thread"). It starts with the first parse and lasts as long
#: as the process.
PARSE: Final = ThreadPoolExecutor(1, thread_name_prefix="mailtui-parse")


class ImapPull(FolderList):
    """Folders and their changes, as batches for the sync worker."""

    # ------------------------------------------------------------------ pull

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._pull(folder.name, dict(state))

    async def _pull(self, name: str, state: dict[str, Any]) -> AsyncIterator[FolderBatch]:
        validity = int(state.get("uidvalidity", 0))
        uidnext = int(state.get("uidnext", 0))
        modseq = int(state.get("modseq", 0))
        partial = bool(state.get("partial", False))
        # STATUS of the folder this connection has selected may come from the
        # connection's older view of it (RFC 3501 6.3.10: Dovecot answers so), so it
        # cannot say that nothing changed there.
        st = self._status.get(name) if self.conn.selected != name else None
        # The folder selected before the folder list was read, unless changed since.
        fresh = self._fresh if self.conn.selected == name else None
        self._fresh = None
        if fresh is not None:
            st = MailboxStatus(
                fresh.exists, 0, fresh.uidnext, fresh.uidvalidity, fresh.highestmodseq
            )
        if (
            st is not None
            and validity
            and not partial
            and self.qresync
            and st.uidvalidity == validity
            and st.uidnext == uidnext
            and st.highestmodseq
            and st.highestmodseq == modseq
        ):
            self._known[name] = (validity, uidnext, modseq)
            yield FolderBatch(folder=name, progress=(st.messages, st.messages), complete=True)
            return
        resync = bool(self.qresync and validity and modseq)
        if fresh is not None and not validity:  # a first pass: that SELECT will do
            sel = fresh
        else:
            sel = await self._select(
                name,
                *([b"(QRESYNC (%d %d))" % (validity, modseq)] if resync else []),
            )
        if not sel.uidvalidity:
            raise TransientError(f"the server sent no UIDVALIDITY for {utf7.decode(name)!r}")
        if sel.uidvalidity != validity:
            # New folder, or recreated on the server: the cached UIDs name nothing now.
            async for batch in self._initial(name, sel, reset=bool(validity), resume=False):
                yield batch
        elif partial:
            async for batch in self._initial(name, sel, reset=False, resume=True):
                yield batch
        else:
            async for batch in self._incremental(name, sel, state):
                yield batch

    def _state(self, sel: Selected, uidnext: int, uids: str | None = None) -> dict[str, Any]:
        state: dict[str, Any] = {
            "uidvalidity": sel.uidvalidity,
            "uidnext": uidnext,
            "modseq": sel.highestmodseq if self.condstore else 0,
        }
        if not self.qresync and uids is not None:
            state["uids"] = uids
        return state

    async def _fetch_split(
        self, uids: Sequence[int], whole: set[int], validity: int
    ) -> list[NewMessage]:
        """Envelopes of ``uids``: those in ``whole`` fetched whole (the body window), the
        others header only."""
        return await self._envelopes(validity, await self._fetch_raw(uids, whole))

    async def _envelopes(self, validity: int, fetched: list[dict[str, Any]]) -> list[NewMessage]:
        """Parse a batch in the parse thread (``PARSE``; a separate process was tried:
        docs/decisions.md), all of it: picking the items out of 2,000 FETCH answers on
        the loop held a key for up to 100 ms (docs/decisions.md, "First contact with a
        big mailbox")."""
        try:
            return await asyncio.get_running_loop().run_in_executor(
                PARSE, between_keys, partial(parse_batch, validity), fetched
            )
        except ProtocolError as exc:  # an answer read unparsed (``framing``)
            self.conn.broken = True
            raise TransientError(f"the server sent something that is not IMAP: {exc}") from None

    async def _fetch_raw(self, uids: Sequence[int], whole: set[int]) -> list[dict[str, Any]]:
        """The FETCH data of ``uids``, newest (highest UID) first."""
        return await self._collect(await self._send_fetch(uids, whole))

    async def _send_fetch(self, uids: Sequence[int], whole: set[int]) -> list[Pending]:
        """Ask for ``uids`` (those in ``whole`` whole, the others header only) without
        waiting for the answer: ``_collect`` reads it."""
        sent: list[Pending] = []
        bodies = [n for n in uids if n in whole]
        headers = [n for n in uids if n not in whole]
        for group, items in ((bodies, WHOLE_ITEMS), (headers, ENVELOPE_ITEMS)):
            if group:
                uid_list = uid_set(group).encode()
                raw = items is ENVELOPE_ITEMS  # parsed in the thread (``framing``)
                sent.append(await self.conn.send(b"UID", b"FETCH", uid_list, items, raw_fetch=raw))
        return sent

    async def _collect(
        self, sent: Sequence[Pending], ordered: bool = True
    ) -> list[dict[str, Any]]:
        """The FETCH data answering ``sent``, newest first (``ordered``; else as they
        came, for ``batch_of``, which orders them). A FETCH without the message data (a
        flag change another client made, reported unasked) is left out: the next
        incremental sync picks it up (CONDSTORE, or the flag comparison)."""
        fetched: list[dict[str, Any]] = []
        raw: list[tuple[str, bytes]] = []  # header answers, parsed in the thread
        for pending in sent:
            async for r in self.conn.responses(pending, raw_into=raw):
                if r.kind != "FETCH":
                    continue
                if r.raw is not None:  # one read alone (``_read``), left raw as well
                    raw.append((r.raw_uid, r.raw))
                    continue
                data = fetch_dict(r.items)
                body = data.get("BODY[]")
                if isinstance(body, bytes | bytearray):
                    self._whole_seen += 1
                    self._whole_bytes += len(body)
                elif header_item(data) is None:
                    continue
                fetched.append(data)
        fetched += [{"UID": uid, RAW_ANSWER: answer} for uid, answer in raw]
        if ordered:
            fetched.sort(key=lambda d: -as_int(d.get("UID")))
        return fetched

    def _whole_batch(self) -> int:
        """How many whole messages make about ``WHOLE_BATCH_BYTES``."""
        average = self._whole_bytes / self._whole_seen if self._whole_seen else _GUESSED_SIZE
        return max(20, min(BATCH, int(WHOLE_BATCH_BYTES / max(average, 1))))

    async def _send_window(self) -> Pending | None:
        """Ask which UIDs of the selected folder are in the body window (``_window``),
        without waiting: ``_window_answer`` reads it."""
        days = self.account.body_days
        if days <= 0:
            return None
        since = imap_date(time.time() - days * 86400)
        return await self.conn.send(b"UID", b"SEARCH", b"SINCE", since)

    async def _window_answer(self, pending: Pending | None) -> set[int]:
        return set(await search_answer(self.conn, pending)) if pending is not None else set()

    async def _window(self, uids: str | None = None) -> set[int]:
        """UIDs (among ``uids``, if given) of the selected folder's messages inside the
        body window (SINCE: the arrival date, by day, which Dovecot keeps in its index;
        SENTSINCE would match the store's window, the Date header, exactly, but makes the
        server read every message: docs/decisions.md); empty for 0 days."""
        days = self.account.body_days
        if days <= 0:
            return set()
        since = imap_date(time.time() - days * 86400)
        scope: list[Arg] = [b"UID", uids.encode()] if uids else []
        return set(await uid_search(self.conn, *scope, b"SINCE", since))

    async def _initial(
        self, name: str, sel: Selected, reset: bool, resume: bool
    ) -> AsyncIterator[FolderBatch]:
        """Every envelope: the newest ``SCREEN`` by sequence number with the folder's UID
        listing, then by UID the next screen and the oldest one header only, then the
        rest newest first: whole messages inside the body window and headers for the
        rest. By UID after the first screen, not by sequence number, because a body the
        user opens between two batches may select another folder meanwhile
        (``_ensure_selected``)."""
        validity = sel.uidvalidity
        uidnext = sel.uidnext
        running = self._state(sel, uidnext)
        running["partial"] = True
        # The newest screenful first, by sequence number (EXISTS is known), with the UID
        # listing asked for behind it; the screen is parsed (in a thread) while the
        # listing is read, and both go as the first batch: the list shows the folder's
        # whole length from its first rows on, so the end key finds its real end.
        newest = None
        if not resume:
            newest = await send_newest(self.conn, sel.exists, SCREEN, ENVELOPE_ITEMS)
        listed = await send_listing(self.conn)
        parsed: asyncio.Future[list[NewMessage]] | None = None
        if newest is not None:
            fetched = await self._collect([newest])
            parsed = asyncio.ensure_future(self._envelopes(validity, fetched))
        try:
            # UIDs in arrays for the whole pass, not lists of ints (docs/decisions.md,
            # "The TUI's memory during a first sync").
            uids = highest_first(await search_uids(self.conn, listed))
            first_rows = await parsed if parsed is not None else []
        finally:
            if parsed is not None:
                parsed.cancel()
        # Every message of the folder, newest first, with the first batch: the list shows
        # the folder's whole length, and asks for the part it shows and lacks
        # (``fetch_window``). A resumed pass has rows cached already: not told.
        listing = None if resume else UidListing(validity, uids)
        seen_uids = self._uids(split_remote_id(m.remote_id)[1] for m in first_rows)
        uidnext = max([uidnext, *(u + 1 for u in seen_uids)])
        on_screen = set(seen_uids)
        total = len(uids) + len(on_screen.difference(uids))
        if on_screen:
            uids = uid_array(u for u in uids if u not in on_screen)
        if first_rows and uids:
            yield FolderBatch(
                folder=name,
                added=first_rows,
                reset=reset,
                state=running,
                progress=(len(first_rows), total),
                listing=listing,
            )
            reset = False
            listing = None
        # The oldest screenful comes right after the newest, so that the end key reaches
        # the folder's real oldest message long before the pass does (docs/decisions.md,
        # "First contact with a big mailbox").
        oldest_early = OLDEST_EARLY and len(uids) > 2 * FIRST_BATCH
        if oldest_early:
            uids = uids[:FIRST_BATCH] + uids[-FIRST_BATCH:] + uids[FIRST_BATCH:-FIRST_BATCH]
        done = start = len(first_rows)
        removed = [remote_id(validity, u) for u in sel.vanished] if resume else []
        if not uids:  # an empty folder, or all of it on the first screen
            yield FolderBatch(
                folder=name,
                added=first_rows,
                reset=reset,
                removed=removed,
                progress=(total, total),
                complete=True,
                state=self._state(sel, uidnext, uid_set(seen_uids)),
            )
            self._known[name] = (validity, uidnext, sel.highestmodseq)
            return
        # A pipeline (docs/decisions.md, "IMAP: pipelined batches"): up to two FETCH
        # commands on the wire, so the server works on the next batch while this side
        # reads one, parses one (in a thread) and the worker commits one. The first
        # screen goes out alone, header only, and is yielded as soon as it is parsed.
        window: set[int] = set()
        planned = 0
        # (uids, commands, whether it is the first screen's bodies)
        sent: deque[tuple[Sequence[int], list[Pending], bool]] = deque()
        # (uids, the UIDs of its answers, their parse)
        parsing: deque[tuple[Sequence[int], list[int], asyncio.Future[list[NewMessage]]]] = (
            deque()
        )
        spill: dict[int, dict[str, Any]] = {}  # answers that came with an earlier batch

        async def top_up() -> None:
            nonlocal planned
            while planned < len(uids) and len(sent) < PIPELINE:
                await self._ensure_selected(name, validity)
                size = self._whole_batch() if uids[planned] in window else BATCH
                if oldest_early and planned == FIRST_BATCH:
                    size = FIRST_BATCH
                chunk = uids[planned : planned + size]
                planned += len(chunk)
                sent.append((chunk, await self._send_fetch(chunk, window), False))

        screen_bodies: list[tuple[str, RawMessage]] = []  # ride with the next batch
        try:
            await self._ensure_selected(name, validity)
            first = uids[:FIRST_BATCH]
            planned = len(first)
            sent.append((first, await self._send_fetch(first, set()), False))
            searching = await self._send_window()
            while done < total:
                if sent:
                    chunk, pending, screen = sent.popleft()
                    fetched = await self._collect(pending, ordered=False)
                    if screen:  # the first screen's bodies, after its envelopes
                        wanted = set(chunk)
                        for data in fetched:
                            uid = as_int(data.get("UID"))
                            if uid in wanted:
                                screen_bodies.append((remote_id(validity, uid), data["BODY[]"]))
                            else:
                                spill[uid] = data
                        continue
                    if done == start and searching is not None:
                        window = await self._window_answer(searching)
                        searching = None
                        # The bodies of the first screen (which came header only) go out
                        # next, before the rest: likely the first ones the user opens.
                        newest_first = [*sorted(on_screen, reverse=True), *chunk]
                        shown = [u for u in newest_first if u in window]
                        if shown and planned < len(uids):
                            bodies = [
                                await self.conn.send(
                                    b"UID", b"FETCH", uid_set(shown).encode(), BODY_ITEMS
                                )
                            ]
                            sent.append((shown, bodies, True))
                    await top_up()
                    mine, answered = batch_of(chunk, fetched, spill)
                    parse = asyncio.ensure_future(self._envelopes(validity, mine))
                    parsing.append((chunk, answered, parse))
                    # Read the next batch while this one is parsed, except for the first
                    # screens (the newest, then the oldest), yielded as soon as parsed.
                    screens = 2 * FIRST_BATCH if oldest_early else FIRST_BATCH
                    if done - start >= screens and sent and len(parsing) < 2:
                        continue
                chunk, answered, future = parsing.popleft()
                added = await future
                first_batch = done == start
                uids_added = self._uids(answered)  # a message for each (envelope_jobs)
                seen_uids.extend(uids_added)
                if uids_added:
                    uidnext = max(uidnext, max(uids_added) + 1)
                done += len(chunk)
                last = done >= total
                if last and spill:
                    # A message answered after its batch was gone (a server that breaks
                    # the rule that a command's data comes before its tagged answer):
                    # the pass stays partial and the next one fetches it again.
                    raise TransientError("the server answered a FETCH out of order")
                yield FolderBatch(
                    folder=name,
                    added=added,
                    bodies=screen_bodies,
                    # Resuming a cut-off first pass: rows already cached keep their old
                    # flags unless told again.
                    flags=[(m.remote_id, m.flags) for m in added] if resume else [],
                    reset=reset and first_batch,
                    removed=removed if last else [],
                    state=self._state(sel, uidnext, await self._seen_set(seen_uids))
                    if last
                    else (running if first_batch else None),
                    progress=(done, total),
                    complete=last,
                    listing=listing if first_batch else None,
                )
                listing = None
                screen_bodies = []
                await top_up()
        finally:
            for _, _, future in parsing:
                future.cancel()
        self._known[name] = (validity, uidnext, sel.highestmodseq)

    @staticmethod
    def _uids(values: Iterable[int]) -> array[int]:
        """UIDs of fetched messages as an array (``search_answer.uid_array``)."""
        try:
            return uid_array(values)
        except OverflowError:
            raise TransientError("the server sent a UID beyond 32 bits") from None

    async def _seen_set(self, seen: array[int]) -> str | None:
        """The UIDs a pass fetched as a sequence set, for the state's ``uids``: only
        without QRESYNC (``_state``), and in a thread: 40 ms at 100,000 UIDs, too long
        a stall of the loop, and a set and a list of 100,000 ints at the pass's end."""
        return None if self.qresync else await asyncio.to_thread(uid_set, seen)

    async def fetch_window(self, folder: str, remote_ids: Sequence[str]) -> list[NewMessage]:
        """Envelopes of ``remote_ids`` now, header only, between two batches of a first
        pass (the window the user scrolled to: ``sync/window.py``). Its answer comes
        after those of the pass's FETCH commands already on the wire."""
        uids: list[int] = []
        validity: int | None = None
        for rid in remote_ids:
            try:
                validity, uid = split_remote_id(rid)
            except ValueError:
                continue
            uids.append(uid)
        if not uids:
            return []
        try:
            sel = await self._select_for(folder, validity)
            # The pass's FETCH commands still on the wire are answered first: Dovecot
            # could interleave this one's answers with theirs, and the pass would take
            # them for its own (``batch_of``'s spill).
            await self.conn.settle()
            return await self._fetch_split(sorted(uids, reverse=True), set(), sel.uidvalidity)
        except (CommandFailed, OpRejected):
            return []  # gone, or the folder recreated: the pass finds out

    async def _ensure_selected(self, name: str, validity: int) -> None:
        """Select ``name`` again if something between two batches selected another
        folder; a folder recreated meanwhile ends this pull (the next one resets it)."""
        if self.conn.selected != name or self._selected is None:
            sel = await self._select(name)
            if sel.uidvalidity != validity:
                raise TransientError(
                    f"folder {utf7.decode(name)!r} was recreated on the server during the sync"
                )

    async def _incremental(
        self, name: str, sel: Selected, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        validity = sel.uidvalidity
        old_next = int(state.get("uidnext", 1)) or 1
        uidnext = max(old_next, sel.uidnext)
        # New messages: UID >= old uidnext ("N:*" also matches the highest UID below N).
        new_uids: list[int] = []
        if sel.uidnext > old_next or not self.qresync:
            new_uids = await uid_search(self.conn, b"UID", b"%d:*" % old_next)
        new_uids = sorted((u for u in new_uids if u >= old_next), reverse=True)
        total = len(new_uids)
        done = 0
        window = await self._window(uid_set(new_uids)) if new_uids else set()
        while done < total:
            await self._ensure_selected(name, validity)
            size = self._whole_batch() if new_uids[done] in window else BATCH
            chunk = new_uids[done : done + size]
            added = await self._fetch_split(chunk, window, validity)
            for m in added:
                uidnext = max(uidnext, split_remote_id(m.remote_id)[1] + 1)
            done += len(chunk)
            yield FolderBatch(folder=name, added=added, progress=(done, total))

        flags: list[tuple[str, Flag]] = []
        removed: list[str] = []
        uids_text: str | None = None
        if self.qresync:
            flags = [(remote_id(validity, u), f) for u, f in sel.changed.items() if u < old_next]
            removed = [remote_id(validity, u) for u in sel.vanished]
        else:
            present: dict[int, Flag] = {}
            if old_next > 1:
                async for resp in self.conn.stream(
                    b"UID", b"FETCH", b"1:%d" % (old_next - 1), b"(UID FLAGS)"
                ):
                    if resp.kind == "FETCH":
                        data = fetch_dict(resp.items)
                        uid = as_int(data.get("UID"))
                        if uid < old_next:
                            present[uid] = flags_from(as_list(data.get("FLAGS")))
            known = parse_uid_set(str(state.get("uids", "")))
            removed = [remote_id(validity, u) for u in known if u not in present]
            flags = [(remote_id(validity, u), f) for u, f in present.items()]
            uids_text = uid_set([*present, *new_uids])
        yield FolderBatch(
            folder=name,
            flags=flags,
            removed=removed,
            state=self._state(sel, uidnext, uids_text),
            progress=(total, total),
            complete=True,
        )
        self._known[name] = (validity, uidnext, sel.highestmodseq)

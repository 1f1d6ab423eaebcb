"""``ImapBackend``: the ``Backend`` contract (``mailtui.sync.contract``) over one IMAP connection.

Identities: a message's ``remote_id`` is ``"<UIDVALIDITY>:<UID>"``, so an op or a body
request made before a folder was recreated on the server can never touch the message that
now has the same UID: the backend checks the UIDVALIDITY of the selected folder first.

Folder sync state (JSON, kept by the store, committed with each batch)::

    uidvalidity   the folder's UIDVALIDITY when the state was written
    uidnext       every UID below it has been seen (new mail is UID >= uidnext)
    modseq        HIGHESTMODSEQ at the last complete pull (0 without CONDSTORE)
    partial       true while the first full pull of the folder is still running
    uids          without QRESYNC only: the UIDs the cache holds, as a sequence set,
                  to find messages expunged by other clients

Pull, per folder:

- LIST-STATUS already told UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ: all equal to the state →
  nothing changed, no SELECT at all (the no-change resync costs one LIST per account).
- New folder or changed UIDVALIDITY: ``reset`` (a changed one), then envelopes newest
  first: ``FETCH`` by sequence number from the top, 500 then 2000 per batch.
- Otherwise QRESYNC: ``SELECT (QRESYNC (uidvalidity modseq))`` returns ``VANISHED`` and
  changed flags; new UIDs come from ``UID SEARCH UID uidnext:*``. Without QRESYNC: all
  UIDs and flags (``UID FETCH 1:* (FLAGS)``), compared with ``uids``.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import logging
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mailtui import mime, secrets
from mailtui.config import AccountConfig
from mailtui.errors import AuthError, ConfigError, OpRejected, TransientError
from mailtui.models import (
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    OpKind,
    OpResult,
    PendingOp,
    RawMessage,
    RemoteFolder,
    Security,
)
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.connection import (
    IDLE_MAX,
    CommandFailed,
    ImapConnection,
    Pending,
)
from mailtui.protocols.imap.folders import (
    ListEntry,
    MailboxStatus,
    parse_list,
    parse_status,
    to_remote_folders,
)
from mailtui.protocols.imap.watch import FolderWatch, finish
from mailtui.protocols.imap.wire import (
    Arg,
    Response,
    as_bytes,
    as_int,
    as_list,
    as_str,
    fetch_dict,
    parse_uid_set,
    quote,
    uid_set,
)
from mailtui.protocols.net.connect import client_context
from mailtui.protocols.net.credentials import credentials, uses_oauth
from mailtui.sync.contract import Capabilities

log = logging.getLogger(__name__)

FIRST_BATCH = 500  # the first screenful of a folder, as fast as possible
PIPELINE = 2  # FETCH commands of a first pass on the wire at once
BATCH = 2000
BODY_CHUNK = 200  # UIDs per UID FETCH BODY.PEEK[] command
ENVELOPE_ITEMS = b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])"
# Messages inside the body window come whole with their envelope (one pass instead of a
# header pass and a body pass; docs/decisions.md, "IMAP: one pass for the body window").
WHOLE_ITEMS = b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
BODY_ITEMS = b"(UID BODY.PEEK[])"
#: Bytes of whole messages a batch aims at (the batch is held in memory until committed);
#: the batch length follows the average message size seen so far.
WHOLE_BATCH_BYTES = 16 << 20
_GUESSED_SIZE = 50_000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

FLAG_NAMES: dict[str, Flag] = {
    "\\SEEN": Flag.SEEN,
    "\\ANSWERED": Flag.ANSWERED,
    "\\FLAGGED": Flag.FLAGGED,
    "\\DELETED": Flag.DELETED,
    "\\DRAFT": Flag.DRAFT,
    "$FORWARDED": Flag.FORWARDED,
    "$JUNK": Flag.JUNK,
}
_WIRE_FLAG: dict[Flag, str] = {
    Flag.SEEN: "\\Seen",
    Flag.ANSWERED: "\\Answered",
    Flag.FLAGGED: "\\Flagged",
    Flag.DELETED: "\\Deleted",
    Flag.DRAFT: "\\Draft",
    Flag.FORWARDED: "$Forwarded",
    Flag.JUNK: "$Junk",
}
# Refusals that will not go away by retrying (RFC 5530 response codes).
_PERMANENT_CODES = frozenset(
    {"TRYCREATE", "NONEXISTENT", "NOPERM", "CANNOT", "OVERQUOTA", "LIMIT", "ALREADYEXISTS"}
)
_MIXED = re.compile(rb"^content-type:\s*multipart/(mixed|related|report)", re.I | re.M)


def flags_from(items: Iterable[Any]) -> Flag:
    value = Flag.NONE
    for item in items:
        if isinstance(item, str):
            value |= FLAG_NAMES.get(item.upper(), Flag.NONE)
    return value


def wire_flags(flags: Flag) -> bytes:
    return ("(" + " ".join(name for bit, name in _WIRE_FLAG.items() if flags & bit) + ")").encode()


def remote_id(uidvalidity: int, uid: int) -> str:
    return f"{uidvalidity}:{uid}"


def split_remote_id(rid: str) -> tuple[int | None, int]:
    """``"5:17"`` → (5, 17); a bare ``"17"`` → (None, 17). ValueError if malformed."""
    validity, sep, uid = rid.partition(":")
    if not sep:
        return None, int(validity)
    return int(validity), int(uid)


_MONTH_NUMBER = {name: i for i, name in enumerate(_MONTHS, start=1)}


def internaldate(text: str) -> int:
    """``" 7-Feb-2026 10:01:02 +0100"`` → Unix time; 0 if malformed. By hand: strptime
    was a quarter of the envelope parsing of a big first sync."""
    try:
        day_month_year, clock, zone = text.split()
        day, month, year = day_month_year.split("-")
        hour, minute, second = clock.split(":")
        sign = -1 if zone[0] == "-" else 1
        if zone[0] not in "+-" or len(zone) != 5:
            return 0
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
        if not (1 <= int(day) <= 31 and int(hour) < 24 and int(minute) < 60 and int(second) < 61):
            return 0
        stamp = calendar.timegm(
            (int(year), _MONTH_NUMBER[month.capitalize()], int(day),
             int(hour), int(minute), int(second), 0, 0, 0)
        )
        return stamp - offset
    except (ValueError, KeyError, IndexError, OverflowError):
        return 0


def envelope_from_header(header: bytes, size: int, date: int) -> Envelope:
    """The list row's envelope from the header alone (the body comes later): attachments
    are guessed from the top-level content type; the preview stays empty."""
    env = mime.header_envelope(header)
    env.size = size
    if env.date == 0:
        env.date = date
    env.has_attachments = bool(_MIXED.search(header))
    env.preview = ""
    return env


#: What the envelope of one fetched message is made from: (UID, FLAGS items,
#: INTERNALDATE, RFC822.SIZE, header bytes).
EnvelopeJob = tuple[int, Any, str, int, bytes]


def envelope_jobs(
    fetched: Sequence[dict[str, Any]],
) -> tuple[list[EnvelopeJob], list[RawMessage | None]]:
    """The parsing work of a batch of FETCH data, and the whole messages in it."""
    jobs: list[EnvelopeJob] = []
    raws: list[RawMessage | None] = []
    for data in fetched:
        whole = data.get("BODY[]")
        raw = whole if isinstance(whole, bytes | bytearray) else None
        header = (
            header_block(raw) if raw is not None else bytes(as_bytes(data.get("BODY[HEADER]")))
        )
        jobs.append(
            (
                as_int(data.get("UID")),
                as_list(data.get("FLAGS")),
                as_str(data.get("INTERNALDATE")),
                as_int(data.get("RFC822.SIZE")),
                header,
            )
        )
        raws.append(raw)
    return jobs, raws


def parse_envelopes(
    uidvalidity: int, jobs: Sequence[EnvelopeJob]
) -> list[tuple[str, Envelope, Flag]]:
    """(remote id, envelope, flags) of each job: the CPU part of a pull."""
    return [
        (
            remote_id(uidvalidity, uid),
            envelope_from_header(header, size, internaldate(date)),
            flags_from(flag_items),
        )
        for uid, flag_items, date, size, header in jobs
    ]


def batch_of(
    chunk: Sequence[int], fetched: Iterable[dict[str, Any]], spill: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The FETCH data of the UIDs in ``chunk``: from ``fetched`` (what was read with its
    command) and from ``spill`` (what came with an earlier command: pipelined FETCHes
    can interleave, connection.py); what ``fetched`` holds for other UIDs goes to
    ``spill`` for the batch it belongs to. Newest first, each UID once."""
    wanted = set(chunk)
    mine: dict[int, dict[str, Any]] = {}
    for data in fetched:
        uid = as_int(data.get("UID"))
        if uid in wanted:
            mine[uid] = data
        else:
            spill[uid] = data
    for uid in chunk:
        if uid in spill:
            mine[uid] = spill.pop(uid)
    return [mine[uid] for uid in sorted(mine, reverse=True)]


def _assemble(
    parsed: Sequence[tuple[str, Envelope, Flag]], raws: Sequence[RawMessage | None]
) -> list[NewMessage]:
    return [
        NewMessage(remote_id=rid, envelope=env, flags=flags, raw=raw)
        for (rid, env, flags), raw in zip(parsed, raws, strict=True)
    ]


def header_block(raw: RawMessage) -> bytes:
    """The header of a whole message, up to and with the blank line (all of it if none)."""
    end = raw.find(b"\r\n\r\n")
    if end >= 0:
        end += 4
    else:
        end = raw.find(b"\n\n")
        end = len(raw) if end < 0 else end + 2
    return bytes(memoryview(raw)[:end])


def imap_date(when: float) -> bytes:
    """A SEARCH date (``1-Feb-2026``), independent of the locale."""
    d = datetime.fromtimestamp(when, tz=UTC)
    return f"{d.day}-{_MONTHS[d.month - 1]}-{d.year}".encode()


def _bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _message_id_of(raw: bytes) -> str:
    return mime.parse_envelope(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n").message_id


class Selected:
    """What SELECT said about the folder."""

    def __init__(self) -> None:
        self.exists = 0
        self.uidvalidity = 0
        self.uidnext = 0
        self.highestmodseq = 0
        self.vanished: list[int] = []
        self.changed: dict[int, Flag] = {}

    def note(self, resp: Response) -> None:
        if resp.kind == "EXISTS" and resp.number is not None:
            self.exists = resp.number
        elif resp.kind == "OK" and resp.code:
            value = int(resp.code_args.split()[0]) if resp.code_args[:1].isdigit() else 0
            if resp.code == "UIDVALIDITY":
                self.uidvalidity = value
            elif resp.code == "UIDNEXT":
                self.uidnext = value
            elif resp.code == "HIGHESTMODSEQ":
                self.highestmodseq = value
        elif resp.kind == "VANISHED":
            text = [as_str(i) for i in resp.items if isinstance(i, str)]
            if text:
                self.vanished.extend(parse_uid_set(text[-1]))
        elif resp.kind == "FETCH":
            data = fetch_dict(resp.items)
            if "UID" in data and "FLAGS" in data:
                self.changed[as_int(data["UID"])] = flags_from(as_list(data["FLAGS"]))


class ImapBackend:
    """One IMAP session for one account; see the module docstring."""

    capabilities = Capabilities(folders=True, server_move=True, flags=True, push=True)

    def __init__(
        self,
        account: AccountConfig,
        *,
        use_qresync: bool = True,
        subscribed_only: bool = True,
        timeout: float = 60.0,
        secret: Callable[[], Any] | None = None,
    ) -> None:
        self.account = account
        self.use_qresync = use_qresync
        self.subscribed_only = subscribed_only
        self.timeout = timeout
        self._secret_source = secret
        self._conn: ImapConnection | None = None
        self.qresync = False
        self.condstore = False
        self._status: dict[str, MailboxStatus] = {}
        self._known: dict[str, tuple[int, int, int]] = {}  # name -> (validity, uidnext, modseq)
        self._inbox = "INBOX"
        self._selected: Selected | None = None
        self._whole_seen = 0  # messages fetched whole so far, and their bytes
        self._whole_bytes = 0
        self._password: str | None = None  # asked once, kept for every login
        #: IDLE is ended and issued again after this many seconds (RFC 3501: before 30 min).
        self.idle_renew = IDLE_MAX
        # The folder open in the UI, IDLEd on through a second connection (watch()).
        self._watch_target: str | None = None
        self.watcher = FolderWatch(
            self._open_logged_in,
            self._examine_changed,
            renew=IDLE_MAX,
            retry=float(account.poll_interval),
            account=account.name,
        )

    # ------------------------------------------------------------------ connection

    def ssl_context(self) -> ssl.SSLContext | None:
        """The system store; exactly ``ca_file``; or, with ``tls_fingerprint``, nothing
        but the pinned certificate (checked by the connection after the handshake)."""
        acc = self.account
        return client_context(acc.security, acc.ca_file, acc.tls_fingerprint)

    async def _secret(self) -> str:
        """The password (asked once per backend, kept in memory for each login it
        makes), or a fresh OAuth access token (asked each time: tokens expire)."""
        try:
            if uses_oauth(self.account):
                if self._secret_source is not None:
                    return str(await self._secret_source())
                return (await credentials(self.account)).secret
            if self._password is None:
                if self._secret_source is not None:
                    self._password = str(await self._secret_source())
                else:
                    self._password = (await credentials(self.account)).secret
            return self._password
        except secrets.SecretError as exc:
            raise AuthError(str(exc)) from None

    async def _open_logged_in(self) -> ImapConnection:
        """A new connection, TLS as configured, logged in (password or OAuth2)."""
        secret = await self._secret()
        security = Security(self.account.security)
        conn = await ImapConnection.open(
            self.account.host,
            self.account.port,
            security,
            self.ssl_context(),
            self.timeout,
            fingerprint=self.account.tls_fingerprint if security != Security.NONE else None,
        )
        try:
            if uses_oauth(self.account):
                await conn.login_oauth(self.account.username, secret, self.account.port)
            else:
                await conn.login(self.account.username, secret)
        except BaseException:
            await conn.abort()
            raise
        return conn

    async def connect(self) -> None:
        conn = await self._open_logged_in()
        try:
            if self.use_qresync and "QRESYNC" in conn.capabilities:
                await conn.command(b"ENABLE", b"QRESYNC")
                self.qresync = self.condstore = True
            elif self.use_qresync and "CONDSTORE" in conn.capabilities:
                await conn.command(b"ENABLE", b"CONDSTORE")
                self.condstore = True
        except CommandFailed as exc:
            await conn.abort()
            raise TransientError(f"the server refused {exc}") from None
        except BaseException:
            await conn.abort()
            raise
        self._conn = conn
        self._update_watch()

    async def close(self) -> None:
        await self.watcher.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.logout()

    # ------------------------------------------------------------------ the open folder

    def watch(self, folder: str | None) -> None:
        """The folder open in the UI (server name), None for none: unless it is INBOX
        (IDLEd on by the main connection), a second connection IDLEs on it
        (``mailtui.protocols.imap.watch``)."""
        self._watch_target = folder
        self._update_watch()

    def _update_watch(self) -> None:
        target = self._watch_target
        conn = self._conn
        if conn is None or "IDLE" not in conn.capabilities or target == self._inbox:
            target = None
        self.watcher.renew = self.idle_renew
        self.watcher.watch(target)

    async def _examine_changed(self, conn: ImapConnection, name: str) -> bool:
        """EXAMINE ``name`` on the second connection; True if it moved on since the
        last pull (so a change between that pull and this IDLE is not missed)."""
        sel = Selected()
        args: list[Arg] = [b"EXAMINE", quote(name)]
        if self.condstore:
            args.append(b"(CONDSTORE)")
        async for resp in conn.stream(*args):
            sel.note(resp)
        conn.selected = name
        known = self._known.get(name)
        return known is not None and (
            known[0] != sel.uidvalidity
            or known[1] < sel.uidnext
            or (self.condstore and known[2] != sel.highestmodseq)
        )

    @property
    def conn(self) -> ImapConnection:
        if self._conn is None or self._conn.broken:
            raise TransientError("not connected to the server")
        return self._conn

    async def _select(self, name: str, *qresync: Arg) -> Selected:
        sel = Selected()
        args: list[Arg] = [b"SELECT", quote(name)]
        if qresync:
            args += qresync
        elif self.condstore:
            args.append(b"(CONDSTORE)")
        self.conn.selected = None
        try:
            async for resp in self.conn.stream(*args):
                sel.note(resp)
        except CommandFailed as exc:
            raise OpRejected(f"folder {utf7.decode(name)!r}: {exc.response.text}") from None
        self.conn.selected = name
        self._selected = sel
        return sel

    async def _select_for(self, name: str, validity: int | None) -> Selected:
        """Select ``name`` unless it is selected already; refuse a recreated folder."""
        sel = self._selected
        if self.conn.selected != name or sel is None:
            sel = await self._select(name)
        if validity is not None and sel.uidvalidity != validity:
            raise OpRejected(
                f"folder {utf7.decode(name)!r} was recreated on the server; it will be synced again"
            )
        return sel

    # ------------------------------------------------------------------ folders

    async def list_folders(self) -> list[RemoteFolder]:
        caps = self.conn.capabilities
        items = b"(MESSAGES UNSEEN UIDNEXT UIDVALIDITY" + (
            b" HIGHESTMODSEQ)" if self.condstore else b")"
        )
        args: list[Arg] = [b"LIST"]
        if "LIST-EXTENDED" in caps:
            ret = b"RETURN (SUBSCRIBED"
            ret += b" SPECIAL-USE" if "SPECIAL-USE" in caps else b""
            ret += b" STATUS " + items if "LIST-STATUS" in caps else b""
            args += [b'""', b'"*"', ret + b")"]
        else:
            args += [b'""', b'"*"']
        entries: list[ListEntry] = []
        status: dict[str, MailboxStatus] = {}
        try:
            async for resp in self.conn.stream(*args):
                if resp.kind == "LIST":
                    entry = parse_list(resp)
                    if entry is not None:
                        entries.append(entry)
                elif resp.kind == "STATUS":
                    parsed = parse_status(resp)
                    if parsed is not None:
                        status[parsed[0]] = parsed[1]
            if "LIST-EXTENDED" not in caps:
                subscribed = set()
                async for resp in self.conn.stream(b"LSUB", b'""', b'"*"'):
                    entry = parse_list(resp)
                    if entry is not None:
                        subscribed.add(entry.name)
                for e in entries:
                    if e.name in subscribed:
                        e.attributes.add("\\SUBSCRIBED")
        except CommandFailed as exc:
            raise TransientError(f"listing folders failed: {exc}") from None
        folders = to_remote_folders(entries, self.subscribed_only)
        self._status = status
        for f in folders:
            if f.role is FolderRole.INBOX:
                self._inbox = f.name
        self._update_watch()
        return folders

    async def create_folder(self, path: str, delimiter: str = "/") -> str:
        """Create (and subscribe) a folder given as a readable path; returns its name."""
        name = delimiter.join(utf7.encode(part) for part in path.split(delimiter))
        try:
            await self.conn.command(b"CREATE", quote(name))
        except CommandFailed as exc:
            raise OpRejected(f"cannot create {path!r}: {exc.response.text}") from None
        with contextlib.suppress(CommandFailed):
            await self.conn.command(b"SUBSCRIBE", quote(name))
        return name

    async def rename_folder(self, name: str, new_path: str, delimiter: str = "/") -> str:
        new = delimiter.join(utf7.encode(part) for part in new_path.split(delimiter))
        if self.conn.selected == name:
            self.conn.selected = None
        try:
            await self.conn.command(b"RENAME", quote(name), quote(new))
        except CommandFailed as exc:
            raise OpRejected(f"cannot rename {utf7.decode(name)!r}: {exc.response.text}") from None
        with contextlib.suppress(CommandFailed):
            await self.conn.command(b"UNSUBSCRIBE", quote(name))
            await self.conn.command(b"SUBSCRIBE", quote(new))
        return new

    async def delete_folder(self, name: str) -> None:
        if self.conn.selected == name:
            with contextlib.suppress(CommandFailed):
                await self.conn.command(
                    b"UNSELECT" if "UNSELECT" in self.conn.capabilities else b"CLOSE"
                )
            self.conn.selected = None
        try:
            await self.conn.command(b"DELETE", quote(name))
        except CommandFailed as exc:
            raise OpRejected(f"cannot delete {utf7.decode(name)!r}: {exc.response.text}") from None
        with contextlib.suppress(CommandFailed):
            await self.conn.command(b"UNSUBSCRIBE", quote(name))

    # ------------------------------------------------------------------ pull

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._pull(folder.name, dict(state))

    async def _pull(self, name: str, state: dict[str, Any]) -> AsyncIterator[FolderBatch]:
        validity = int(state.get("uidvalidity", 0))
        uidnext = int(state.get("uidnext", 0))
        modseq = int(state.get("modseq", 0))
        partial = bool(state.get("partial", False))
        st = self._status.get(name)
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
        """Parse a batch in a thread (a helper process was tried: docs/decisions.md)."""
        jobs, raws = envelope_jobs(fetched)
        return _assemble(await asyncio.to_thread(parse_envelopes, validity, jobs), raws)

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
                sent.append(await self.conn.send(b"UID", b"FETCH", uid_list, items))
        return sent

    async def _collect(self, sent: Sequence[Pending]) -> list[dict[str, Any]]:
        """The FETCH data answering ``sent``, newest first. A FETCH without the message
        data (a flag change another client made, reported unasked) is left out: the
        next incremental sync picks it up (CONDSTORE, or the flag comparison)."""
        fetched: list[dict[str, Any]] = []
        for pending in sent:
            async for r in self.conn.responses(pending):
                if r.kind != "FETCH":
                    continue
                data = fetch_dict(r.items)
                body = data.get("BODY[]")
                if isinstance(body, bytes | bytearray):
                    self._whole_seen += 1
                    self._whole_bytes += len(body)
                elif "BODY[HEADER]" not in data:
                    continue
                fetched.append(data)
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
        found: set[int] = set()
        if pending is not None:
            async for resp in self.conn.responses(pending):
                if resp.kind == "SEARCH":
                    found.update(int(i) for i in resp.items if isinstance(i, str) and i.isdigit())
        return found

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
        return set(await self._search_uids(*scope, b"SINCE", since))

    async def _initial(
        self, name: str, sel: Selected, reset: bool, resume: bool
    ) -> AsyncIterator[FolderBatch]:
        """Every envelope, newest first, by UID (``UID SEARCH ALL`` first): the first
        screen header only, then whole messages inside the body window and headers for
        the rest. By UID, not by sequence number, because a body the user opens between
        two batches may select another folder meanwhile (``_ensure_selected``)."""
        validity = sel.uidvalidity
        uidnext = sel.uidnext
        uids = sorted(await self._search_uids(b"ALL"), reverse=True)
        total = len(uids)
        seen_uids: list[int] = []
        running = self._state(sel, uidnext)
        running["partial"] = True
        done = 0
        removed = [remote_id(validity, u) for u in sel.vanished] if resume else []
        if total == 0:
            yield FolderBatch(
                folder=name,
                reset=reset,
                removed=removed,
                progress=(0, 0),
                complete=True,
                state=self._state(sel, uidnext, ""),
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
        sent: deque[tuple[list[int], list[Pending], bool]] = deque()
        parsing: deque[tuple[list[int], asyncio.Future[list[NewMessage]]]] = deque()
        spill: dict[int, dict[str, Any]] = {}  # answers that came with an earlier batch

        async def top_up() -> None:
            nonlocal planned
            while planned < total and len(sent) < PIPELINE:
                await self._ensure_selected(name, validity)
                size = self._whole_batch() if uids[planned] in window else BATCH
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
                    fetched = await self._collect(pending)
                    if screen:  # the first screen's bodies, after its envelopes
                        wanted = set(chunk)
                        for data in fetched:
                            uid = as_int(data.get("UID"))
                            if uid in wanted:
                                screen_bodies.append((remote_id(validity, uid), data["BODY[]"]))
                            else:
                                spill[uid] = data
                        continue
                    if done == 0 and searching is not None:
                        window = await self._window_answer(searching)
                        searching = None
                        # The bodies of the first screen (which came header only) go out
                        # next, before the rest: likely the first ones the user opens.
                        shown = [u for u in chunk if u in window]
                        if shown and planned < total:
                            bodies = [
                                await self.conn.send(
                                    b"UID", b"FETCH", uid_set(shown).encode(), BODY_ITEMS
                                )
                            ]
                            sent.append((shown, bodies, True))
                    await top_up()
                    mine = batch_of(chunk, fetched, spill)
                    parsing.append((chunk, asyncio.ensure_future(self._envelopes(validity, mine))))
                    if done > 0 and sent and len(parsing) < 2:
                        continue  # read the next batch while this one is parsed
                chunk, future = parsing.popleft()
                added = await future
                first_batch = done == 0
                for m in added:
                    uid = split_remote_id(m.remote_id)[1]
                    seen_uids.append(uid)
                    uidnext = max(uidnext, uid + 1)
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
                    state=self._state(sel, uidnext, uid_set(seen_uids))
                    if last
                    else (running if first_batch else None),
                    progress=(done, total),
                    complete=last,
                )
                screen_bodies = []
                await top_up()
        finally:
            for _, future in parsing:
                future.cancel()
        self._known[name] = (validity, uidnext, sel.highestmodseq)

    async def _search_uids(self, *criteria: Arg) -> list[int]:
        found: list[int] = []
        async for resp in self.conn.stream(b"UID", b"SEARCH", *criteria):
            if resp.kind == "SEARCH":
                found += [int(i) for i in resp.items if isinstance(i, str) and i.isdigit()]
        return found

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
            async for resp in self.conn.stream(b"UID", b"SEARCH", b"UID", b"%d:*" % old_next):
                if resp.kind == "SEARCH":
                    new_uids += [int(i) for i in resp.items if isinstance(i, str) and i.isdigit()]
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

    # ------------------------------------------------------------------ bodies

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        # The whole answer is read (not `return` at the first item): leaving FETCH's
        # tagged OK on the wire would mark the connection broken and cost a reconnect.
        found: RawMessage | None = None
        async for _, raw in self.fetch_bodies(folder, [remote_id]):
            found = raw
        if found is None:
            raise OpRejected("the message is no longer on the server")
        return bytes(found)  # for the reader: one message, bytes like the cache's

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        """Raw messages as they stream in (several per round trip); ids no longer on
        the server are left out."""
        by_validity: dict[int | None, list[int]] = {}
        for rid in remote_ids:
            try:
                validity, uid = split_remote_id(rid)
            except ValueError:
                continue
            by_validity.setdefault(validity, []).append(uid)
        for validity, uids in by_validity.items():
            try:
                sel = await self._select_for(folder, validity)
            except OpRejected:
                continue
            for start in range(0, len(uids), BODY_CHUNK):
                chunk = uids[start : start + BODY_CHUNK]
                async for resp in self.conn.stream(
                    b"UID", b"FETCH", uid_set(chunk).encode(), BODY_ITEMS
                ):
                    if resp.kind != "FETCH":
                        continue
                    data = fetch_dict(resp.items)
                    raw = data.get("BODY[]")
                    if isinstance(raw, bytes | bytearray) and "UID" in data:
                        yield remote_id(sel.uidvalidity, as_int(data["UID"])), raw

    # ------------------------------------------------------------------ ops

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        if op.kind is OpKind.APPEND:
            # The worker put the bytes in the payload (Store.append_source).
            raw = op.payload.get("raw")
            if target_folder is None or not isinstance(raw, bytes):
                raise OpRejected("nothing to file")
            return await self.append(target_folder, raw, Flag.SEEN)
        if op.remote_id is None or op.folder_name is None:
            raise OpRejected("the message was never on the server")
        try:
            validity, uid = split_remote_id(op.remote_id)
        except ValueError:
            raise OpRejected(f"not an IMAP message id: {op.remote_id!r}") from None
        try:
            await self._select_for(op.folder_name, validity)
            if op.kind is OpKind.SET_FLAGS:
                await self._store_flags(uid, Flag(int(op.payload.get("add", 0))), True)
                await self._store_flags(uid, Flag(int(op.payload.get("remove", 0))), False)
                return OpResult()
            if op.kind is OpKind.DELETE:
                await self._expunge(uid)
                return OpResult()
            if op.kind in (OpKind.MOVE, OpKind.COPY):
                if target_folder is None:
                    raise OpRejected("no target folder")
                return await self._copy(uid, target_folder, move=op.kind is OpKind.MOVE)
        except CommandFailed as exc:
            raise self._op_failure(exc) from None
        raise OpRejected(f"IMAP does not support {op.kind.value} this way")

    def _op_failure(self, exc: CommandFailed) -> Exception:
        if exc.response.kind == "BAD" or exc.code in _PERMANENT_CODES or not exc.code:
            return OpRejected(exc.response.text or str(exc))
        return TransientError(f"the server could not do it now: {exc.response.text}")

    async def _store_flags(self, uid: int, flags: Flag, add: bool) -> None:
        if flags:
            await self.conn.command(
                b"UID",
                b"STORE",
                str(uid).encode(),
                b"+FLAGS.SILENT" if add else b"-FLAGS.SILENT",
                wire_flags(flags),
            )

    async def _expunge(self, uid: int) -> None:
        """Mark and expunge exactly this UID (UIDPLUS); safe to repeat."""
        await self._store_flags(uid, Flag.DELETED, True)
        if "UIDPLUS" in self.conn.capabilities:
            await self.conn.command(b"UID", b"EXPUNGE", str(uid).encode())
        # Without UIDPLUS a plain EXPUNGE would also remove what other clients marked
        # \Deleted: leave it marked (hidden here, expunged by the next client that does).

    async def _existing_copy(self, uid: int, target: str) -> str | None:
        """The UID in ``target`` of a message with the same Message-ID as ``uid``, if one
        is there: a COPY/APPEND repeated after a lost OK must not make a second copy."""
        header = b""
        async for resp in self.conn.stream(
            b"UID", b"FETCH", str(uid).encode(), b"(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
        ):
            if resp.kind == "FETCH":
                for key, value in fetch_dict(resp.items).items():
                    if key.startswith("BODY[") and isinstance(value, bytes | bytearray):
                        header = bytes(value)
        if not header:
            return None
        message_id = _message_id_of(header)
        return await self._find_message_id(target, message_id) if message_id else None

    async def _find_message_id(self, folder: str, message_id: str) -> str | None:
        """The remote id of a message with this Message-ID in ``folder``; the selected
        folder stays selected."""
        selected = self.conn.selected
        found: str | None = None
        status = await self._select(folder)
        if status.exists:
            async for resp in self.conn.stream(
                b"UID", b"SEARCH", b"HEADER", b"Message-ID", quote(_bracketed(message_id))
            ):
                if resp.kind == "SEARCH":
                    hits = [int(i) for i in resp.items if isinstance(i, str) and i.isdigit()]
                    if hits:
                        found = remote_id(status.uidvalidity, max(hits))
        if selected is not None and selected != folder:
            await self._select(selected)
        return found

    async def _copy(self, uid: int, target: str, move: bool) -> OpResult:
        source = self.conn.selected
        assert source is not None
        caps = self.conn.capabilities
        if move and "MOVE" in caps:
            # MOVE is atomic: repeated after a lost OK the UID is simply gone here (an
            # empty OK), and the next pull of the target finds the message.
            _, untagged = await self.conn.command(b"UID", b"MOVE", str(uid).encode(), quote(target))
            codes = [r for r in untagged if r.kind == "OK" and r.code == "COPYUID"]
            return OpResult(new_remote_id=_copyuid(codes[0] if codes else self.conn.last_ok))
        new = await self._existing_copy(uid, target)
        if new is None:
            await self.conn.command(b"UID", b"COPY", str(uid).encode(), quote(target))
            new = _copyuid(self.conn.last_ok)
        if move:
            await self._expunge(uid)
        return OpResult(new_remote_id=new)

    async def append(
        self, folder: str, raw: bytes, flags: Flag = Flag.NONE, date: int = 0
    ) -> OpResult:
        """APPEND ``raw`` to ``folder`` (drafts, sent mail); a message with the same
        Message-ID already there is not appended twice. APPENDUID gives its id."""
        message_id = _message_id_of(raw)
        try:
            if message_id:
                found = await self._find_message_id(folder, message_id)
                if found is not None:
                    return OpResult(new_remote_id=found)
            args: list[Arg] = [b"APPEND", quote(folder), wire_flags(flags)]
            if date:
                stamp = datetime.fromtimestamp(date).astimezone()
                args.append(stamp.strftime('"%d-%b-%Y %H:%M:%S %z"').encode())
            args.append((raw,))
            await self.conn.command(*args)
        except CommandFailed as exc:
            raise self._op_failure(exc) from None
        ok = self.conn.last_ok
        if ok.code == "APPENDUID":
            parts = ok.code_args.split()
            if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                return OpResult(new_remote_id=remote_id(int(parts[0]), int(parts[1])))
        return OpResult()

    # ------------------------------------------------------------------ push

    async def wait_for_changes(self, timeout: float) -> set[str]:
        """IDLE on INBOX, and on the open folder through the second connection (if
        any); the other folders are polled when this returns ``set()`` after
        ``timeout``. IDLE is issued again every ``idle_renew`` seconds meanwhile."""
        conn = self.conn
        if "IDLE" not in conn.capabilities:
            await asyncio.sleep(timeout)
            return set()
        seen = self.watcher.take()  # changes in the open folder while we were busy
        if seen:
            return seen
        inbox = self._inbox
        sel = await self._select(inbox)
        known = self._known.get(inbox)
        if known is not None and (
            known[0] != sel.uidvalidity
            or known[1] < sel.uidnext
            or (self.condstore and known[2] != sel.highestmodseq)
        ):
            return {inbox}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            idle = asyncio.create_task(conn.idle(min(left, self.idle_renew)))
            watched = asyncio.create_task(self.watcher.event.wait())
            try:
                await asyncio.wait({idle, watched}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                await finish(idle, watched)  # DONE if the open folder changed first
            if not idle.cancelled():
                idle.result()  # the connection's error, if any
            changed = self.watcher.take()
            if conn.changed:
                changed.add(inbox)
            if changed:
                return changed
        return set()


def _copyuid(resp: Response) -> str | None:
    """``[COPYUID 7 3 12]`` → ``"7:12"`` for a single message."""
    if resp.code != "COPYUID":
        return None
    parts = resp.code_args.split()
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    try:
        dst = parse_uid_set(parts[2])
    except ValueError:
        return None
    return remote_id(int(parts[0]), dst[0]) if len(dst) == 1 else None


def build(account: AccountConfig) -> ImapBackend:
    if account.security not in tuple(Security):
        raise ConfigError(f"account {account.name!r}: unknown security {account.security!r}")
    return ImapBackend(account)

"""Ops: the user's changes applied on the server (flags, delete, move, copy, append)
and folder administration. Each is safe to repeat after a lost answer."""

from __future__ import annotations

import contextlib
from datetime import datetime

from mailtui import mime
from mailtui.errors import OpRejected, TransientError
from mailtui.models import Flag, OpKind, OpResult, PendingOp
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.client import ImapClient
from mailtui.protocols.imap.connection import CommandFailed
from mailtui.protocols.imap.messages import remote_id, split_remote_id, wire_flags
from mailtui.protocols.imap.search_answer import uid_search
from mailtui.protocols.imap.wire import Arg, Response, fetch_dict, parse_uid_set, quote

# Refusals that will not go away by retrying (RFC 5530 response codes).
_PERMANENT_CODES = frozenset(
    {"TRYCREATE", "NONEXISTENT", "NOPERM", "CANNOT", "OVERQUOTA", "LIMIT", "ALREADYEXISTS"}
)


def _bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _message_id_of(raw: bytes) -> str:
    return mime.parse_envelope(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n").message_id


class ImapOps(ImapClient):
    """``apply`` of the backend contract, APPEND, and creating, renaming, deleting and
    subscribing folders."""

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

    async def subscribe_folder(self, name: str, subscribed: bool) -> None:
        verb = b"SUBSCRIBE" if subscribed else b"UNSUBSCRIBE"
        try:
            await self.conn.command(verb, quote(name))
        except CommandFailed as exc:
            what = "subscribe" if subscribed else "unsubscribe"
            raise OpRejected(
                f"cannot {what} {utf7.decode(name)!r}: {exc.response.text}"
            ) from None

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
            selected = await self._select_for(op.folder_name, validity)
            if op.kind is OpKind.SET_FLAGS:
                add = Flag(int(op.payload.get("add", 0)))
                if add & Flag.FORWARDED and not selected.keeps("$Forwarded"):
                    # The server takes no such keyword: the mark stays on this side only.
                    add &= ~Flag.FORWARDED
                await self._store_flags(uid, add, True)
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
            hits = await uid_search(
                self.conn, b"HEADER", b"Message-ID", quote(_bracketed(message_id))
            )
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

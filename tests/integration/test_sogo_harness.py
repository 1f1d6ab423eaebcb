"""The ActiveSync harness itself (tests/servers/sogo.py): SOGo answers, users log in,
mail put in over IMAP is there (and in an ActiveSync Sync), sending goes through the
suite's SMTP server, and a stack that fails or stops leaves nothing behind.

Checked with httpx and the standard library, plus mailtui's WBXML codec (itself checked
against libwbxml) for the raw FolderSync and Sync: no Exchange backend code, so a failure
here points at the harness or at SOGo.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import httpx
import pytest

from mailtui.protocols.eas import wbxml
from mailtui.protocols.eas.wbxml import Element
from tests.servers import (
    EASUser,
    PostgresStartError,
    SOGoServer,
    TLSFiles,
)
from tests.servers.dovecot import _alive, _descendants
from tests.servers.ports import tcp_accepts

pytestmark = pytest.mark.integration

MAIL_COMMANDS = {
    "FolderSync",
    "Sync",
    "GetItemEstimate",
    "ItemOperations",
    "MoveItems",
    "Ping",
    "SendMail",
    "SmartReply",
    "SmartForward",
    "FolderCreate",
    "FolderUpdate",
    "FolderDelete",
}


def make_message(subject: str, to: str, sender: str = "Carol <carol@elsewhere.test>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="harness.test")
    msg["Date"] = "Mon, 06 Jan 2025 10:00:00 +0000"
    msg.set_content(f"Body of {subject}.\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def test_options_lists_versions_and_commands(eas_user: EASUser) -> None:
    response = httpx.options(eas_user.url, auth=eas_user.auth, timeout=30)
    assert response.status_code == 200, response.text
    versions = response.headers["MS-ASProtocolVersions"].split(",")
    assert "14.1" in versions and "12.1" in versions, versions
    commands = set(response.headers["MS-ASProtocolCommands"].split(","))
    assert commands >= MAIL_COMMANDS, MAIL_COMMANDS - commands
    assert response.headers["MS-Server-ActiveSync"] == "14.1"


def test_wrong_password_and_unknown_user_get_401(eas_user: EASUser) -> None:
    for auth in ((eas_user.name, eas_user.password + "x"), ("nobody_here", "secret"), None):
        response = httpx.options(eas_user.url, auth=auth, timeout=30)
        assert response.status_code == 401, (auth, response.status_code)
    # The right password still works after the failures.
    assert httpx.options(eas_user.url, auth=eas_user.auth, timeout=30).status_code == 200


def test_mail_appended_over_imap_is_there_over_imap(eas_user: EASUser) -> None:
    raw = make_message("appended over IMAP", eas_user.email)
    uid = eas_user.append(raw, flags=["\\Flagged"])
    delivered = make_message("written into the Maildir", eas_user.email)
    eas_user.deliver(delivered)
    imap = eas_user.imap()
    try:
        typ, data = imap.select("INBOX", readonly=True)
        assert (typ, data) == ("OK", [b"2"])
        typ, fetched = imap.uid("FETCH", str(uid), "(FLAGS BODY.PEEK[])")
        assert typ == "OK"
        first = fetched[0]
        assert isinstance(first, tuple)
        assert b"\\Flagged" in first[0]
        assert first[1] == raw
        typ, found = imap.uid("SEARCH", "SUBJECT", '"written into the Maildir"')
        assert typ == "OK" and found[0], found
    finally:
        imap.logout()


def test_a_new_users_folders_report_highestmodseq(eas_user: EASUser) -> None:
    """The priming that SOGo's Sync depends on (see sogo.py): every folder, including
    Templates (SOGo lists it), already sends HIGHESTMODSEQ to a plain SELECT."""
    imap = eas_user.imap()
    try:
        typ, listing = imap.list('""', "*")
        assert typ == "OK"
        names = {
            re.sub(rb'^\([^)]*\) "/" ', b"", line).decode().strip('"')
            for line in listing
            if isinstance(line, bytes)
        }
        assert {"INBOX", "Drafts", "Sent", "Trash", "Junk", "Templates"} <= names, names
        for name in sorted(names):
            typ, _ = imap.select(f'"{name}"', readonly=True)
            assert typ == "OK"
            codes = b" ".join(
                c for c in imap.untagged_responses.get("OK", []) if isinstance(c, bytes)
            )
            assert b"HIGHESTMODSEQ" in codes, (name, codes)
    finally:
        imap.logout()


def test_sendmail_goes_through_the_smtp_server_to_a_local_inbox(
    eas_user: EASUser, sogo: SOGoServer
) -> None:
    """SOGo sends as the user (AUTH PLAIN) through the suite's SMTP server, which
    delivers to a local recipient. ActiveSync 12.1's SendMail takes the raw RFC 822
    message as its body, so no WBXML is needed to check the harness's wiring."""
    sogo.add_user(f"{eas_user.name}_to", "secret2")
    recipient = sogo.email(f"{eas_user.name}_to")
    raw = make_message("sent through SOGo", recipient, sender=eas_user.email)
    response = httpx.post(
        eas_user.command_url("SendMail") + "&SaveInSent=T",
        auth=eas_user.auth,
        headers={"MS-ASProtocolVersion": "12.1", "Content-Type": "message/rfc822"},
        content=raw,
        timeout=60,
    )
    assert response.status_code == 200, (response.status_code, response.text)
    sent = eas_user.sent_messages()
    assert len(sent) == 1, sent
    assert sent[0].login == eas_user.name
    assert sent[0].delivered_to == [f"{eas_user.name}_to"]
    for user, folder in ((f"{eas_user.name}_to", "INBOX"), (eas_user.name, "Sent")):
        imap = sogo.imap(user)
        try:
            typ, found = imap.select(folder, readonly=True)
            assert (typ, found) == ("OK", [b"1"]), (user, folder)
        finally:
            imap.logout()


def _family(server: SOGoServer) -> set[int]:
    sogod = server._sogod  # noqa: SLF001
    roots = [sogod.pid if sogod else None, server.memcached.pid]
    roots += [server.dovecot.pid, server.postgres.pid]
    return {pid for root in roots if root is not None for pid in _descendants(root)}


def test_stop_leaves_no_process_port_or_directory(server_tls: TLSFiles) -> None:
    """A second, separate stack: after stop() every process it started is gone, its
    ports are closed and its directory is removed."""
    server = SOGoServer(server_tls)
    server.start()
    try:
        server.add_user("solo", "secret")
        pids = _family(server)
        ports = [server.port, server.memcached.port, server.imap_port, server.postgres.port]
        base = server.base_dir
        assert len(pids) >= 3 + 4, pids  # sogod watchdog + 3 workers, and the others
        assert httpx.options(server.url, auth=("solo", "secret"), timeout=30).status_code == 200
    finally:
        server.stop()
    assert not [p for p in pids if _alive(p)]
    assert not [p for p in ports if tcp_accepts("127.0.0.1", p)]
    assert not base.exists()


def test_a_piece_that_fails_is_named_with_its_log_and_the_rest_stopped(
    server_tls: TLSFiles,
) -> None:
    # Not tmp_path: the daemons' users must be able to reach the directory.
    base = Path(tempfile.mkdtemp(prefix="mailtui-sogo-broken-"))
    try:
        (base / "pg").mkdir()
        (base / "pg" / "left-over").write_text("not a cluster")
        server = SOGoServer(server_tls, base)
        with pytest.raises(PostgresStartError) as failure:
            server.start()
        message = str(failure.value)
        assert "initdb failed" in message and "is not empty" in message, message
        assert server._memcached is None and server._sogod is None  # noqa: SLF001
        assert server._dovecot is None and server._smtp is None  # noqa: SLF001
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------ raw ActiveSync (WBXML)
def eas_command(user: EASUser, command: str, body: Element) -> Element:
    """POST one ActiveSync command as protocol 14.1; the decoded answer."""
    response = httpx.post(
        user.command_url(command),
        auth=user.auth,
        headers={
            "MS-ASProtocolVersion": "14.1",
            "Content-Type": "application/vnd.ms-sync.wbxml",
        },
        content=wbxml.encode(body),
        timeout=60,
    )
    assert response.status_code == 200, (command, response.status_code, response.text)
    assert response.content, f"{command}: empty answer"
    return wbxml.decode(response.content)


def folder_sync(user: EASUser) -> dict[str, tuple[str, str]]:
    """DisplayName -> (ServerId, Type) of a first FolderSync."""
    answer = eas_command(
        user, "FolderSync", Element("FolderHierarchy:FolderSync", [
            Element("FolderHierarchy:SyncKey", "0"),
        ]),
    )  # fmt: skip
    assert answer.findtext("Status") == "1", answer
    folders = {}
    for add in answer.findall("Changes/Add"):
        name, server_id = add.findtext("DisplayName", ""), add.findtext("ServerId", "")
        folders[name or ""] = (server_id or "", add.findtext("Type", "") or "")
    return folders


def test_foldersync_lists_the_mail_folders(eas_user: EASUser) -> None:
    folders = folder_sync(eas_user)
    types = {name.lower(): kind for name, (_, kind) in folders.items()}
    # MS-ASCMD 2.2.3.186.3: 2 inbox, 3 drafts, 4 deleted items, 5 sent items.
    wanted = {"inbox": "2", "drafts": "3", "trash": "4", "sent": "5"}
    assert {name: types.get(name) for name in wanted} == wanted, folders
    assert all(server_id for server_id, _ in folders.values()), folders


def test_sync_returns_mail_appended_over_imap(eas_user: EASUser) -> None:
    """What the priming is for: mail another client put in is what Sync hands out."""
    subjects = {"first over IMAP", "second over IMAP"}
    for subject in sorted(subjects):
        eas_user.append(make_message(subject, eas_user.email))
    inbox = next(sid for name, (sid, kind) in folder_sync(eas_user).items() if kind == "2")

    def sync(key: str, *extra: Element) -> Element:
        return eas_command(
            eas_user, "Sync", Element("AirSync:Sync", [
                Element("AirSync:Collections", [
                    Element("AirSync:Collection", [
                        Element("AirSync:SyncKey", key),
                        Element("AirSync:CollectionId", inbox),
                        *extra,
                    ]),
                ]),
            ]),
        )  # fmt: skip

    first = sync("0")
    key = first.findtext("Collections/Collection/SyncKey")
    assert first.findtext("Collections/Collection/Status") == "1" and key, first
    second = sync(
        key,
        Element("AirSync:GetChanges"),
        Element("AirSync:WindowSize", "50"),
        Element("AirSync:Options", [
            Element("AirSync:FilterType", "0"),
            Element("AirSyncBase:BodyPreference", [
                Element("AirSyncBase:Type", "1"),
                Element("AirSyncBase:TruncationSize", "200"),
            ]),
        ]),
    )  # fmt: skip
    adds = second.findall("Collections/Collection/Commands/Add")
    got = {add.findtext("ApplicationData/Email:Subject") for add in adds}
    assert got == subjects, second

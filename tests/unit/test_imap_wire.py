"""The IMAP response parser, argument quoting, UID sets, modified UTF-7, SASL strings,
LIST → folders with roles: pure functions, table-driven."""

from __future__ import annotations

import base64

import pytest

from mailtui.models import Flag, FolderRole
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.client import Selected
from mailtui.protocols.imap.folders import ListEntry, parse_list, parse_status, to_remote_folders
from mailtui.protocols.imap.messages import (
    envelope_from_header,
    envelope_jobs,
    flags_from,
    internaldate,
    split_remote_id,
    wire_flags,
)
from mailtui.protocols.imap.wire import (
    ProtocolError,
    as_bytes,
    fetch_dict,
    literal_size,
    parse_response,
    parse_uid_set,
    quote,
    tokenize,
    uid_set,
)
from mailtui.protocols.net import sasl


def parse(*segments: bytes):  # type: ignore[no-untyped-def]
    return parse_response(list(segments))


def test_fetch_with_literal_keeps_bytes_unscanned() -> None:
    body = b'Subject: hi\r\n\r\n) ( {5}\r\n"quoted"\r\n'
    resp = parse(
        b"* 12 FETCH (UID 345 FLAGS (\\Seen $Forwarded) RFC822.SIZE 40 BODY[] {%d}\r\n" % len(body),
        body,
        b")\r\n",
    )
    assert (resp.tag, resp.kind, resp.number) == ("*", "FETCH", 12)
    data = fetch_dict(resp.items)
    assert data["UID"] == "345"
    assert data["FLAGS"] == ["\\Seen", "$Forwarded"]
    assert data["BODY[]"] == body


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            b'* LIST (\\HasNoChildren) "/" "Sent Items"\r\n',
            [["\\HasNoChildren"], "/", "Sent Items"],
        ),
        (b"* LIST (\\Noselect) NIL INBOX\r\n", [["\\Noselect"], None, "INBOX"]),
        (b'* STATUS "a \\"b\\"" (MESSAGES 3)\r\n', ['a "b"', ["MESSAGES", "3"]]),
        (
            b"* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] NIL MODSEQ (77))\r\n",
            [["BODY[HEADER.FIELDS (MESSAGE-ID)]", None, "MODSEQ", ["77"]]],
        ),
        (b'* 1 FETCH (BODY[]<0> "")\r\n', [["BODY[]<0>", ""]]),
        (b"* SEARCH 1 5 9\r\n", ["1", "5", "9"]),
        (b"* SEARCH\r\n", []),
    ],
)
def test_items(line: bytes, expected: list[object]) -> None:
    assert parse(line).items == expected


@pytest.mark.parametrize(
    "rest",
    [
        b" ".join(b"%d" % i for i in range(1, 100_001)) + b"\r\n",
        b"7 8  9 \r\n",
        b"\r\n",
        b"1 2 (MODSEQ 917162500)\r\n",
    ],
)
def test_a_search_answer_reads_as_the_tokenizer_reads_it(rest: bytes) -> None:
    """SEARCH answers of numbers only take a short way (a big folder's UID listing):
    the same items as the tokenizer's."""
    assert parse(b"* SEARCH " + rest).items == tokenize([rest])


def test_status_responses_with_codes() -> None:
    r = parse(b"m7 OK [COPYUID 38 4:5 10:11] Moved UIDs.\r\n")
    assert (r.tag, r.kind, r.code, r.code_args, r.text) == (
        "m7",
        "OK",
        "COPYUID",
        "38 4:5 10:11",
        "Moved UIDs.",
    )
    r = parse(b"* OK [UIDVALIDITY 1700000000] Ok\r\n")
    assert (r.code, r.code_args) == ("UIDVALIDITY", "1700000000")
    r = parse(b"m2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
    assert (r.kind, r.code) == ("NO", "AUTHENTICATIONFAILED")
    r = parse(b"* BYE Server shutting down.\r\n")
    assert (r.kind, r.text) == ("BYE", "Server shutting down.")
    assert parse(b"+ idling\r\n").tag == "+"
    assert parse(b"* 3 EXISTS\r\n").number == 3


@pytest.mark.parametrize(
    "segments",
    [[b"* 1 FETCH (UID 1))\r\n"], [b"* 1 FETCH (UID {3}\r\n"], [b"* 1 FETCH ((UID 1\r\n"]],
)
def test_garbage_is_a_protocol_error(segments: list[bytes]) -> None:
    with pytest.raises(ProtocolError):
        tokenize([segments[0].split(b" ", 2)[2]] + segments[1:])


def test_literal_size() -> None:
    assert literal_size(b"* 1 FETCH (BODY[] {1234}\r\n") == 1234
    assert literal_size(b"A APPEND x {12+}\r\n") == 12
    assert literal_size(b"* OK done\r\n") is None
    with pytest.raises(ProtocolError):
        literal_size(b"* 1 FETCH (BODY[] {99999999999999}\r\n")


@pytest.mark.parametrize(
    ("uids", "text"),
    [([1, 2, 3, 7], "1:3,7"), ([5], "5"), ([], ""), ([9, 8, 8, 1], "1,8:9")],
)
def test_uid_sets_round_trip(uids: list[int], text: str) -> None:
    assert uid_set(uids) == text
    assert parse_uid_set(text) == sorted(set(uids))


def test_quote() -> None:
    assert quote("INBOX") == b"INBOX"
    assert quote("Sent Items") == b'"Sent Items"'
    assert quote('a"b\\') == b'"a\\"b\\\\"'
    assert quote("NIL") == b'"NIL"'
    assert quote("") == b'""'
    assert quote("pässword") == ("pässword".encode(),)


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("INBOX", "INBOX"),
        ("Projekte Ä", "Projekte &AMQ-"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("台北", "&U,BTFw-"),
        ("~peter/mail/日本語/台北", "~peter/mail/&ZeVnLIqe-/&U,BTFw-"),
    ],
)
def test_modified_utf7(text: str, wire: str) -> None:
    assert utf7.encode(text) == wire
    assert utf7.decode(wire) == text


def test_modified_utf7_broken_names_come_back_unchanged() -> None:
    for broken in ("&", "a&bad", "&!!!-"):
        assert utf7.decode(broken) == broken


def test_sasl_strings() -> None:
    assert sasl.plain("u", "p") == b"\0u\0p"
    assert sasl.xoauth2("me@x", "tok") == b"user=me@x\x01auth=Bearer tok\x01\x01"
    bearer = sasl.oauthbearer("a,b=c", "tok", "imap.x", 993)
    assert bearer == b"n,a=a=2Cb=3Dc,\x01host=imap.x\x01port=993\x01auth=Bearer tok\x01\x01"
    assert base64.b64decode(base64.b64encode(bearer)) == bearer


def test_flags_and_remote_ids() -> None:
    assert flags_from(["\\Seen", "\\flagged", "$Forwarded", "$Junk", "custom"]) == (
        Flag.SEEN | Flag.FLAGGED | Flag.FORWARDED | Flag.JUNK
    )
    assert wire_flags(Flag.SEEN | Flag.DELETED) == b"(\\Seen \\Deleted)"
    assert split_remote_id("17:42") == (17, 42)
    assert split_remote_id("42") == (None, 42)
    assert internaldate("17-Jul-1996 02:44:25 -0700") == 837596665
    assert internaldate(" 7-Jul-1996 02:44:25 +0000") == 836707465
    assert internaldate("garbage") == 0


def test_envelope_from_header_alone() -> None:
    header = (
        b"From: =?utf-8?q?Zo=C3=AB?= <zoe@x.example>\r\nSubject: Report\r\n"
        b"Content-Type: multipart/mixed; boundary=x\r\nMessage-ID: <a@b>\r\n\r\n"
    )
    env = envelope_from_header(header, 5000, 123)
    assert (env.subject, env.from_[0].name, env.size, env.date) == ("Report", "Zoë", 5000, 123)
    assert env.has_attachments and env.message_id == "<a@b>"


def test_select_responses() -> None:
    sel = Selected()
    for line in (
        b"* 5 EXISTS\r\n",
        b"* OK [UIDVALIDITY 99] x\r\n",
        b"* OK [UIDNEXT 12] x\r\n",
        b"* OK [HIGHESTMODSEQ 700] x\r\n",
        b"* VANISHED (EARLIER) 3:4,8\r\n",
        b"* 2 FETCH (UID 6 FLAGS (\\Seen) MODSEQ (650))\r\n",
    ):
        sel.note(parse(line))
    assert (sel.exists, sel.uidvalidity, sel.uidnext, sel.highestmodseq) == (5, 99, 12, 700)
    assert sel.vanished == [3, 4, 8]
    assert sel.changed == {6: Flag.SEEN}


def _entry(name: str, *attrs: str) -> ListEntry:
    return ListEntry(name=name, delimiter="/", attributes={a.upper() for a in attrs})


def test_roles_from_special_use_then_common_names() -> None:
    entries = [
        _entry("INBOX"),
        _entry("Gesendet", "\\Sent", "\\Subscribed"),
        _entry("Sent", "\\Subscribed"),  # a name match must not steal a SPECIAL-USE role
        _entry("Deleted Items", "\\Subscribed"),
        _entry("Spam"),
        _entry("Lists", "\\Noselect"),
        _entry("Lists/dev", "\\Subscribed"),
        _entry("Unsubscribed"),
    ]
    folders = {f.name: f for f in to_remote_folders(entries)}
    assert folders["INBOX"].role is FolderRole.INBOX
    assert folders["Gesendet"].role is FolderRole.SENT
    assert folders["Sent"].role is FolderRole.NONE
    assert folders["Deleted Items"].role is FolderRole.TRASH
    assert folders["Spam"].role is FolderRole.JUNK  # shown although unsubscribed: a role
    assert folders["Spam"].subscribed is True
    assert folders["Unsubscribed"].subscribed is False  # listed, for the pane to grey
    assert folders["Lists"].selectable is False  # parent of a shown folder
    assert folders["Lists"].subscribed is True
    assert (folders["Lists/dev"].display_name, folders["Lists/dev"].depth) == ("dev", 1)
    every = {f.name: f.subscribed for f in to_remote_folders(entries, subscribed_only=False)}
    assert every["Unsubscribed"] is True  # folders = "all": every folder is shown


def test_a_nonexistent_name_is_listed_only_as_a_parent() -> None:
    entries = [
        _entry("INBOX", "\\Subscribed"),
        _entry("Gone", "\\NonExistent", "\\Subscribed"),
        _entry("Old", "\\NonExistent", "\\HasChildren"),
        _entry("Old/kept", "\\Subscribed"),
    ]
    folders = {f.name: f for f in to_remote_folders(entries)}
    assert "Gone" not in folders
    assert folders["Old"].selectable is False and folders["Old"].subscribed is True


def test_parse_list_and_status() -> None:
    entry = parse_list(parse(b'* LIST (\\HasNoChildren \\Trash) "/" "Papierkorb"\r\n'))
    assert entry is not None and entry.attributes == {"\\HASNOCHILDREN", "\\TRASH"}
    name, status = parse_status(
        parse(b"* STATUS INBOX (MESSAGES 3 UNSEEN 1 UIDNEXT 9 UIDVALIDITY 5 HIGHESTMODSEQ 70)\r\n")
    ) or ("", None)
    assert name == "INBOX" and status is not None
    assert (status.messages, status.unseen, status.uidnext, status.uidvalidity) == (3, 1, 9, 5)
    assert status.highestmodseq == 70


def test_a_body_filled_in_place_is_a_whole_message_like_any_other() -> None:
    """A literal bigger than the reader's buffer comes as the ``bytearray`` it was
    decrypted into (LineReader.readexactly): the FETCH code takes it as the message."""
    raw = bytearray(b"Subject: hi\r\nFrom: a@example.org\r\n\r\nbody\r\n")
    segments = [b"* 1 FETCH (UID 7 RFC822.SIZE 44 BODY[] {44}\r\n", raw, b")\r\n"]
    data = fetch_dict(parse_response(segments).items)
    assert data["BODY[]"] is raw
    assert as_bytes(data["BODY[]"]) is raw
    jobs, raws = envelope_jobs([data])
    assert raws == [raw]
    assert jobs[0][0] == 7
    assert jobs[0][4] == b"Subject: hi\r\nFrom: a@example.org\r\n\r\n"


@pytest.mark.parametrize(
    ("line", "keeps"),
    [
        (b"* OK [PERMANENTFLAGS (\\Answered \\Seen \\*)] Flags permitted.\r\n", True),
        (b"* OK [PERMANENTFLAGS (\\Answered \\Seen $Forwarded)] ok\r\n", True),
        (b"* OK [PERMANENTFLAGS (\\Answered \\Seen \\Flagged)] no keywords\r\n", False),
        (b"* OK [PERMANENTFLAGS ()] read-only\r\n", False),
        (b"* OK [UIDNEXT 3] no PERMANENTFLAGS at all: every flag stays\r\n", True),
    ],
)
def test_forwarded_goes_to_the_server_only_where_it_stays(line: bytes, keeps: bool) -> None:
    sel = Selected()
    sel.note(parse(line))
    assert sel.keeps("$Forwarded") is keeps

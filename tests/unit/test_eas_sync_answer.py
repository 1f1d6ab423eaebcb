"""The pure parts of the Exchange backend over real SOGo responses
(tests/data/eas/sogo-5.8/): the Sync answer as batch pieces, the folder tree and its
types, the request a client change makes, flags from ApplicationData."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.errors import TransientError
from mailtui.models import Flag, FolderKind, FolderRole
from mailtui.protocols.eas import sync
from mailtui.protocols.eas.folders import FolderTree
from mailtui.protocols.eas.wbxml import Element as E
from mailtui.protocols.eas.wbxml import decode

DATA = Path(__file__).resolve().parents[1] / "data" / "eas" / "sogo-5.8"


def doc(name: str) -> E:
    return decode((DATA / f"{name}-response.wbxml").read_bytes())


def test_sogo_adds_come_as_messages_with_their_mime_and_envelope() -> None:
    answer = sync.read_answer(doc("sync-adds-mime"), "-1", 0, "Sync")
    assert answer.key == "1-3" and not answer.more
    assert [m.remote_id for m in answer.added] == ["1", "2"]
    first = answer.added[0]
    assert first.envelope.subject == "Grüße"
    assert first.envelope.message_id and first.envelope.date
    assert first.raw is not None and b"\r\n\r\n" in first.raw
    assert first.flags & Flag.SEEN == Flag.NONE


def test_the_body_window_keeps_only_recent_bodies() -> None:
    answer = sync.read_answer(doc("sync-adds-mime"), "-1", 2**40, "Sync")
    assert all(m.raw is None and m.envelope.subject for m in answer.added)


def test_an_empty_answer_keeps_the_key_and_a_client_change_answer_moves_it() -> None:
    assert sync.read_answer(None, "7-7", 0, "Sync").key == "7-7"
    answer = sync.read_answer(doc("sync-change"), "1-2", 0, "Sync")
    assert answer.key == "1-3" and answer.refused == {}


@pytest.mark.parametrize(
    ("code", "error"), [("3", sync.SyncKeyInvalid), ("12", TransientError), ("110", TransientError)]
)
def test_statuses(code: str, error: type[Exception]) -> None:
    answer = E("AirSync:Sync", [E("AirSync:Collections", [E("AirSync:Collection", [
        E("AirSync:SyncKey", "1"), E("AirSync:CollectionId", "5"), E("AirSync:Status", code),
    ])])])  # fmt: skip
    with pytest.raises(error):
        sync.read_answer(answer, "1", 0, "Sync")


def test_flags_from_application_data() -> None:
    data = E("AirSync:ApplicationData", [
        E("Email:Read", "1"),
        E("Email:Flag", [E("Email:Status", "2")]),
        E("Email2:LastVerbExecuted", "3"),
    ])  # fmt: skip
    assert sync.flags_of(data) == Flag.SEEN | Flag.FLAGGED | Flag.FORWARDED
    cleared = E("AirSync:ApplicationData", [E("Email:Read", "0"), E("Email:Flag")])
    assert sync.flags_of(cleared, Flag.SEEN | Flag.FLAGGED) == Flag.NONE


def test_client_changes_as_ms_ascmd_writes_them() -> None:
    request = sync.request("5", "k1", window=10, changes=[
        sync.Change("5:1", read=True, flagged=False), sync.Change("5:2", delete=True),
    ])  # fmt: skip
    collection = request.find("Collections/Collection")
    assert collection is not None
    assert collection.findtext("DeletesAsMoves") == "0"
    assert collection.findtext("Commands/Change/ApplicationData/Email:Read") == "1"
    flag = collection.find("Commands/Change/ApplicationData/Email:Flag")
    assert flag is not None and not flag.children  # an empty Flag clears it
    assert collection.findtext("Commands/Delete/ServerId") == "5:2"
    assert collection.findtext("Options/AirSyncBase:BodyPreference/Type") == "4"
    first = sync.request("5", "0").find("Collections/Collection")
    assert first is not None and first.find("GetChanges") is None  # not with key 0


def test_the_filter_type_asked_is_the_step_given_and_all_by_default() -> None:
    def asked(request: E) -> str | None:
        return request.findtext("Collections/Collection/Options/FilterType")

    assert asked(sync.request("5", "0")) == "0"
    assert asked(sync.request("5", "0", filter_type="1")) == "1"
    assert asked(sync.request("5", "k1", window=10, filter_type="7")) == "7"


def test_the_folder_tree_of_sogo_with_roles_and_kinds() -> None:
    from mailtui.protocols.eas import folders

    tree = FolderTree("0", {})
    answer = doc("foldersync")
    for add in answer.findall("Changes/Add"):
        tree.folders[add.findtext("ServerId") or ""] = (
            add.findtext("ParentId") or "0", add.findtext("DisplayName") or "",
            int(add.findtext("Type") or 0),
        )  # fmt: skip
    listed = {f.display_name: f for f in tree.remote_folders()}
    assert listed["INBOX"].role is FolderRole.INBOX
    assert listed["Sent"].role is FolderRole.SENT and listed["Trash"].role is FolderRole.TRASH
    assert listed["Junk"].role is FolderRole.JUNK
    assert {f.kind for f in tree.remote_folders()} == set(FolderKind)
    assert FolderTree.load(tree.dump()) == tree
    # A sub-folder: its path, depth, and found again by path.
    tree.folders["sub"] = (listed["INBOX"].name, "Lists", 12)
    sub = next(f for f in tree.remote_folders() if f.name == "sub")
    assert sub.depth == 1 and tree.find("INBOX/Lists") == "sub"
    assert folders.TYPES[4] == (FolderKind.MAIL, FolderRole.TRASH)

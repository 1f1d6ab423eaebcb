"""Writing mail from the UI: new message and reply through a fake $EDITOR script, the
built-in editor without one, attachments, and the send that lands in the store's outbox.
"""

from __future__ import annotations

import email
import email.policy
import json
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from mailtui.compose import Identity
from mailtui.compose.editor import EditorError, edit_text, editor_command
from mailtui.models import AccountKind, FolderRole, OpKind, OutboxState, RemoteFolder
from mailtui.store import Store
from mailtui.ui.modals import FolderPicker
from mailtui.ui.screens.compose import ComposeScreen
from mailtui.ui.screens.drafts import DraftsScreen

from .conftest import MailFixture, make_app, new_message, screen_text, typing_goes_to


def composing(app: App[None]) -> bool:
    """The compose screen is up and mounted (its widgets can be queried). The header rows
    sit in a container that mounts them after the body on a busy machine: both are asked."""
    screen = app.screen
    return isinstance(screen, ComposeScreen) and all(
        screen.query(selector) for selector in ("#body", "#to", "#subject")
    )


async def settle(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout  # wall-clock: the suite runs on two busy cores
    while not condition():
        assert time.monotonic() < deadline, "the screen did not settle:\n" + screen_text(
            pilot.app
        )
        await pilot.pause(0.05)
    await pilot.pause()  # and the screen is laid out for what came (a modal's widgets)


@pytest.fixture
def no_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither $VISUAL nor $EDITOR: the composer's built-in editor is used."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)


async def open_composer(pilot: Pilot[None], key: str = "m") -> ComposeScreen:
    """Press ``key`` on the main screen and return the mounted compose screen."""
    await pilot.press(key)
    await settle(pilot, lambda: composing(pilot.app))
    screen = pilot.app.screen
    assert isinstance(screen, ComposeScreen)
    return screen


def fake_editor(tmp_path: Path, appended: str) -> Path:
    """An $EDITOR that appends a line to the file it is given (as a person would type)."""
    script = tmp_path / "fake-editor"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{appended}' >> \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def parsed(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


async def test_new_message_through_editor_lands_in_outbox(
    mail: MailFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", str(fake_editor(tmp_path, "Written in the editor.")))
    attachment = tmp_path / "notes.txt"
    attachment.write_text("attached text\n")
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        text = screen_text(app)
        assert "From:" in text and "me@example.test" in text and "Subject:" in text
        assert "ctrl+e opens" in text
        await pilot.press(*"bob@example.org")
        screen.query_one("#subject", Input).value = "Hello from mailtui"
        await pilot.press("ctrl+e")
        await settle(pilot, lambda: "Written in the editor." in screen_text(app))
        await pilot.press("ctrl+a")
        await pilot.pause()
        await pilot.press(*str(attachment), "enter")
        await settle(pilot, lambda: "notes.txt" in screen_text(app))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    items = await mail.store.outbox(mail.account_id)
    assert len(items) == 1
    item = items[0]
    assert item.state is OutboxState.QUEUED
    assert item.recipients == ("bob@example.org",)
    assert item.mail_from == "me@example.test"
    msg = parsed(item.raw)
    assert msg["Subject"] == "Hello from mailtui"
    assert msg["Message-ID"].endswith("@example.test>")
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and "Written in the editor." in body.get_content()
    names = [part.get_filename() for part in msg.iter_attachments()]
    assert names == ["notes.txt"]


async def test_reply_quotes_and_threads(
    mail: MailFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", str(fake_editor(tmp_path, "Thanks, noted.")))
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "Message 000000" in screen_text(app))
        screen = await open_composer(pilot, "r")
        assert screen.query_one("#subject", Input).value == "Re: Message 000000"
        assert "alice@example.test" in screen.query_one("#to", Input).value
        await pilot.press("ctrl+e")
        await settle(pilot, lambda: "Thanks, noted." in screen.query_one("#body", TextArea).text)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    (item,) = await mail.store.outbox(mail.account_id)
    msg = parsed(item.raw)
    assert msg["In-Reply-To"] == "<m0@example.test>"
    assert "<m0@example.test>" in msg["References"]
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "> This is the body of message 0." in text
    assert text.index("wrote:") < text.index("Thanks, noted.")


async def test_builtin_editor_when_no_editor_and_errors_keep_the_draft(
    mail: MailFixture, tmp_path: Path, no_editor: None
) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        assert "not set" in screen_text(app)
        body = screen.query_one("#body", TextArea)
        assert not body.read_only
        # No recipient: a plain-words error, nothing queued, the screen stays.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert await mail.store.outbox(mail.account_id) == []
        screen.query_one("#to", Input).value = "not an address <<"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert "To:" in screen_text(app)
        screen.query_one("#to", Input).value = "carol@example.org"
        body.focus()
        await pilot.press(*"typed here")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    (item,) = await mail.store.outbox(mail.account_id)
    assert b"typed here" in item.raw


async def test_body_typed_in_place_with_an_editor_set_is_kept_and_round_trips(
    mail: MailFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $VISUAL set the body is still typed in place: shown while typing, handed to
    the editor and back (ctrl+e), sent as it stands in the text area."""
    monkeypatch.setenv("VISUAL", str(fake_editor(tmp_path, "Added in the editor.")))
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        await pilot.press(*"bob@example.org")
        screen.query_one("#body", TextArea).focus()
        await pilot.press(*"Typed in place.", "enter")
        await settle(pilot, lambda: "Typed in place." in screen_text(app))
        await pilot.press("ctrl+e")
        await settle(pilot, lambda: "Added in the editor." in screen_text(app))
        assert "Typed in place." in screen_text(app)  # went to the editor and came back
        assert "Body updated from the editor" in screen_text(app)
        body = screen.query_one("#body", TextArea)
        await pilot.press("ctrl+z")  # what the editor did is one edit, undone as one
        assert body.text == "Typed in place.\n"
        await pilot.press("ctrl+y")
        assert body.text == "Typed in place.\nAdded in the editor.\n"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    (item,) = await mail.store.outbox(mail.account_id)
    text = parsed(item.raw).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.splitlines() == ["Typed in place.", "Added in the editor."]


async def test_body_typed_in_place_is_in_the_saved_draft(
    mail: MailFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", str(fake_editor(tmp_path, "unused")))
    drafts = mail.folders["Drafts"]
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        await pilot.press(*"bob@example.org")
        screen.query_one("#body", TextArea).focus()
        long_line = "A paragraph long enough to wrap at eighty columns, typed word by word here."
        await pilot.press(*long_line, "enter", *"Second line: quick question?")
        await settle(pilot, lambda: "quick question?" in screen_text(app))
        assert "typed word by" in screen_text(app)  # soft-wrapped, all of it on screen
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    raws = [raw async for _id, _flags, _date, raw in mail.store.iter_raw(drafts)]
    assert len(raws) == 1 and raws[0] is not None
    text = parsed(raws[0]).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.splitlines() == [long_line, "Second line: quick question?"]


@pytest.fixture
async def nodrafts(tmp_path: Path) -> AsyncIterator[MailFixture]:
    """An account whose server has no Drafts folder: drafts stay on this machine."""
    store = await Store.open(tmp_path / "nodrafts" / "cache.sqlite")
    account = await store.ensure_account("home", AccountKind.IMAP, "me@example.test")
    inbox = RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)
    folders = await store.sync_folders(account.id, [inbox])
    fixture = MailFixture(store, folders, account.id)
    await fixture.add("INBOX", [new_message(i, with_raw=True) for i in range(3)])
    yield fixture
    await store.close()


async def test_closing_keeps_an_autosaved_private_draft(
    nodrafts: MailFixture, tmp_path: Path, no_editor: None
) -> None:
    mail = nodrafts
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        screen.query_one("#subject", Input).value = "Unfinished thoughts"
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    drafts = list((Path(mail.store.path).parent / "drafts").glob("*.json"))
    assert len(drafts) == 1
    assert stat.S_IMODE(drafts[0].stat().st_mode) == 0o600
    assert json.loads(drafts[0].read_text())["subject"] == "Unfinished thoughts"
    assert await mail.store.outbox(mail.account_id) == []


def test_editor_command_and_failures(tmp_path: Path) -> None:
    assert editor_command({}) is None
    assert editor_command({"EDITOR": "vim -u NONE"}) == ["vim", "-u", "NONE"]
    assert editor_command({"VISUAL": "nano", "EDITOR": "vi"}) == ["nano"]
    with pytest.raises(EditorError, match="cannot run"):
        edit_text("x", [str(tmp_path / "no-such-editor")])
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o700)
    with pytest.raises(EditorError, match="status 3; the text is unchanged"):
        edit_text("x", [str(failing)])
    assert edit_text("hello\n", [str(fake_editor(tmp_path, "more"))]) == "hello\nmore\n"


async def test_address_completion_from_the_cache(
    mail: MailFixture, no_editor: None
) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        to = screen.query_one("#to", Input)
        await pilot.press(*"Car")
        await settle(pilot, lambda: "Cooper" in screen_text(app))  # shown inline, dimmed
        await pilot.press("right")  # accept
        assert to.value == "Carol Cooper <carol@example.test>"
        await pilot.press(*", dan")
        await settle(pilot, lambda: "dan@example.test" in screen_text(app))
        await pilot.press("right")
        assert to.value == "Carol Cooper <carol@example.test>, Dan Driver <dan@example.test>"
        await pilot.press(*", zz")
        await pilot.pause(0.2)
        await pilot.press("right")
        assert to.value.endswith(", zz")  # nothing known: nothing completed


async def test_identities_reply_as_the_address_written_to_and_switch_from(
    mail: MailFixture, no_editor: None
) -> None:
    work = Identity("me@example.test", "Me at work")
    alias = Identity("alias@example.test", "Me, alias")
    app = make_app(mail.store, identities={"home": [alias, work]})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "Message 000000" in screen_text(app))
        await pilot.press("r")  # the message was sent to me@example.test
        await settle(pilot, lambda: composing(app))
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert "Me at work <me@example.test>" in screen_text(app)
        assert screen.collect().from_ == work
        screen.query_one("#from", Select).value = 1  # switch to the alias
        await pilot.pause()
        assert screen.collect().from_ == alias
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    (item,) = await mail.store.outbox(mail.account_id)
    assert item.mail_from == "alias@example.test"
    assert parsed(item.raw)["From"] == "\"Me, alias\" <alias@example.test>"


async def test_attach_prompt_completes_paths(tmp_path: Path) -> None:
    from mailtui.ui.modals.attach_prompt import PathSuggester

    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "q3-summary.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden").write_text("x")
    s = PathSuggester()
    assert await s.get_suggestion(f"{tmp_path}/rep") == f"{tmp_path}/reports/"
    assert await s.get_suggestion(f"{tmp_path}/reports/q") == f"{tmp_path}/reports/q3-summary.pdf"
    assert await s.get_suggestion(f"{tmp_path}/reports/q3-summary.pdf") is None
    assert await s.get_suggestion(f"{tmp_path}/h") is None  # hidden files only when asked
    assert await s.get_suggestion(f"{tmp_path}/.h") == f"{tmp_path}/.hidden"
    assert await s.get_suggestion(f"{tmp_path}/nope/x") is None


async def test_a_closed_draft_resumes_with_its_attachment_and_sends(
    nodrafts: MailFixture, tmp_path: Path, no_editor: None
) -> None:
    mail = nodrafts
    attachment = tmp_path / "plan.txt"
    attachment.write_text("the plan\n")
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D")
        await settle(pilot, lambda: any("No drafts" in n.message for n in app._notifications))
        screen = await open_composer(pilot, "m")
        await pilot.press(*"dan@example.test")
        screen.query_one("#subject", Input).value = "Plan for Monday"
        await pilot.press("ctrl+a")
        await pilot.pause()
        await pilot.press(*str(attachment), "enter")
        await settle(pilot, lambda: "plan.txt" in screen_text(app))
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        attachment.unlink()  # the draft keeps its own copy

        await pilot.press("D")
        await settle(pilot, lambda: isinstance(app.screen, DraftsScreen))
        await settle(pilot, lambda: "Plan for Monday" in screen_text(app))  # drafts read
        await pilot.press("enter")
        await settle(pilot, lambda: composing(app))
        resumed = app.screen
        assert isinstance(resumed, ComposeScreen)
        assert resumed.query_one("#subject", Input).value == "Plan for Monday"
        assert "dan@example.test" in resumed.query_one("#to", Input).value
        await settle(pilot, lambda: "plan.txt" in screen_text(app))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    (item,) = await mail.store.outbox(mail.account_id)
    msg = parsed(item.raw)
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == "plan.txt" and part.get_content() == "the plan\n"
    assert list((Path(mail.store.path).parent / "drafts").glob("*.json")) == []


async def test_mailto_link_opens_the_composer(
    mail: MailFixture, no_editor: None
) -> None:
    url = "mailto:bob@example.org?subject=Caf%C3%A9%20tomorrow&cc=carol@example.org&body=Hi%21"
    app = make_app(mail.store, mailto=url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: composing(app))
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.query_one("#to", Input).value == "bob@example.org"
        assert screen.query_one("#cc", Input).value == "carol@example.org"
        assert screen.query_one("#subject", Input).value == "Café tomorrow"
        assert screen.query_one("#body", TextArea).text == "Hi!"


async def test_bad_mailto_link_says_why(mail: MailFixture) -> None:
    app = make_app(mail.store, mailto="mailto:%3C%3Cbroken?subject=x")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: any("mailto:" in n.message for n in app._notifications)
        )
        assert not isinstance(app.screen, ComposeScreen)


async def test_closed_draft_goes_to_drafts_folder_resumes_and_leaves_when_sent(
    mail: MailFixture, no_editor: None
) -> None:
    drafts = mail.folders["Drafts"]
    app = make_app(mail.store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_composer(pilot, "m")
        await pilot.press(*"bob@example.org")
        screen.query_one("#subject", Input).value = "Keep me"
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        assert (await mail.store.count(drafts))[0] == 1
        (op,) = await mail.store.pending_ops(mail.account_id, 10)
        assert op.kind is OpKind.APPEND  # the worker files it on the server
        assert list((Path(mail.store.path).parent / "drafts").glob("*.json")) == []

        await pilot.press("c")  # go to folder
        await settle(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"Drafts", "enter")
        await settle(pilot, lambda: "Keep me" in screen_text(app))
        resumed = await open_composer(pilot, "e")
        assert resumed.query_one("#subject", Input).value == "Keep me"
        assert resumed.query_one("#to", Input).value == "bob@example.org"
        resumed.query_one("#subject", Input).value = "Keep me, v2"
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await settle(pilot, lambda: "Keep me, v2" in screen_text(app))
        assert (await mail.store.count(drafts))[0] == 1  # replaced, not piled up
        assert len(await mail.store.pending_ops(mail.account_id, 10)) == 1

        await pilot.press("e")
        await settle(pilot, lambda: composing(app))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    assert (await mail.store.count(drafts))[0] == 0  # sent: the draft is gone
    assert await mail.store.pending_ops(mail.account_id, 10) == []  # never reached a server
    (item,) = await mail.store.outbox(mail.account_id)
    assert b"Subject: Keep me, v2" in item.raw


async def test_format_flowed_can_be_switched_on(
    mail: MailFixture, no_editor: None
) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        await pilot.press(*"bob@example.org")
        screen.query_one("#body", TextArea).load_text("word " * 40)
        await pilot.press("ctrl+o")
        assert "format=flowed on" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    (item,) = await mail.store.outbox(mail.account_id)
    msg = parsed(item.raw)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_param("format") == "flowed"
    lines = msg.get_content().splitlines()
    assert len(lines) > 1 and all(line.endswith(" ") for line in lines[:-1])  # soft breaks


async def test_an_exchange_account_keeps_drafts_on_this_machine(
    mail: MailFixture, no_editor: None
) -> None:
    """ActiveSync cannot put a message into a folder (no APPEND, no COPY): with the
    capabilities an Exchange backend reports, closing the composer does not offer the
    draft to the server's Drafts (an op the server would refuse) but keeps it in the
    private file; moving stays offered (MoveItems)."""
    from mailtui.protocols.eas.session import capabilities_of
    from mailtui.ui.triage import allowed

    from .conftest import FakeManager

    caps = capabilities_of(frozenset({"Sync", "FolderSync", "MoveItems", "Ping", "SendMail"}))
    assert not allowed("save_draft", caps) and allowed("move", caps)
    manager = FakeManager()
    manager.caps[mail.account_id] = caps
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_composer(pilot, "m")
        screen.query_one("#subject", Input).value = "Kept here"
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        notes = [n.message for n in app._notifications]  # noqa: SLF001
        assert any(m.startswith("Draft kept on this machine") for m in notes), notes
    drafts = mail.folders["Drafts"]
    assert [raw async for raw in mail.store.iter_raw(drafts)] == []
    assert await mail.store.pending_ops(mail.account_id, 100) == []
    (kept,) = (Path(mail.store.path).parent / "drafts").glob("*.json")
    assert json.loads(kept.read_text())["subject"] == "Kept here"

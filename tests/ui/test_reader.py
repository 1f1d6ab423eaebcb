"""The reader driven by keys at 80×24 and 200×60: headers, body, links (copy),
attachments (save safely, ask before replacing, open a private copy), every header field
and the raw source, and right-to-left text in the right visual order."""

from __future__ import annotations

import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mailtui.mime import parse_envelope
from mailtui.models import Flag, NewMessage
from mailtui.ui import attachment_files, bidi
from mailtui.ui.modals.attachments import AttachmentsScreen
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.modals.links import LinksScreen
from mailtui.ui.modals.save_prompt import SaveScreen
from mailtui.ui.modals.source import SourceScreen
from mailtui.ui.widgets import MessageView

from .conftest import FIXED_NOW, MailFixture, make_app, screen_text, typing_goes_to
from .test_main_screen import rows_loaded, wait_until

PERSIAN = "تفاوت پروتکل‌های ایمیل POP3 و IMAP چیست؟"
SIZES = [(80, 24), (200, 60)]


def rich_message() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Dana Reader <dana@example.test>"
    mail["To"] = "Me <me@example.test>, Team <team@example.test>"
    mail["Cc"] = "Boss <boss@example.test>"
    mail["Subject"] = "Quarterly numbers"
    mail["Message-ID"] = "<q1@example.test>"
    mail["Date"] = "Thu, 12 Mar 2026 15:00:00 +0000"
    mail["X-Mailer"] = "Handwritten 1.0"
    mail.set_content(
        "Hello,\n\nThe figures are at https://example.test/q1 as promised.\n\n"
        "> did you see the report?\n"
    )
    mail.add_alternative(
        '<p>Hello,</p><p>The figures are <a href="https://example.test/q1">here</a>.</p>',
        subtype="html",
    )
    mail.add_attachment(b"#!/bin/sh\necho pwned\n", maintype="application",
                        subtype="x-sh", filename="../../evil.sh")
    mail.add_attachment(b"plain notes\n" * 100, maintype="text", subtype="plain",
                        filename="notes.txt")
    return mail.as_bytes()


async def add_top(mail: MailFixture, raw: bytes, remote_id: str = "top") -> None:
    """File ``raw`` in the Inbox as its newest message (first row)."""
    envelope = parse_envelope(raw)
    envelope.date = int(FIXED_NOW.timestamp()) + 60
    await mail.add("INBOX", [NewMessage(remote_id, envelope, Flag.NONE, raw=raw)])


async def open_top(pilot: Pilot[None]) -> MessageView:
    await wait_until(pilot, lambda: rows_loaded(pilot))
    await pilot.press("enter")
    reader = pilot.app.query_one(MessageView)
    await wait_until(pilot, lambda: reader.parsed is not None)
    return reader


@pytest.mark.parametrize("size", SIZES)
async def test_reader_shows_headers_body_and_attachments(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    await add_top(mail, rich_message())
    app = make_app(mail.store)
    async with app.run_test(size=size) as pilot:
        reader = await open_top(pilot)
        text = screen_text(app)
        assert "From: Dana Reader <dana@example.test>" in text
        assert "To: Me <me@example.test>, Team <team@example.test>" in text.replace("\n", " ")
        assert "Cc: Boss <boss@example.test>" in text
        assert "Subject: Quarterly numbers" in text
        assert "Date: " in text
        assert "Attachment: evil.sh (21 B, application/x-sh)" in text
        assert "Attachment: notes.txt (1 KB, text/plain)" in text
        assert "The figures are" in reader.body_plain
        assert "did you see the report?" in reader.body_plain


@pytest.mark.parametrize("size", SIZES)
async def test_links_are_listed_and_copied_on_the_key(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    await add_top(mail, rich_message())
    app = make_app(mail.store)
    async with app.run_test(size=size) as pilot:
        await open_top(pilot)
        assert app.clipboard == ""  # nothing is copied by itself
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LinksScreen))
        await wait_until(pilot, lambda: "https://example.test/q1" in screen_text(app))
        assert app.clipboard == ""
        await pilot.press("y")
        assert app.clipboard == "https://example.test/q1"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LinksScreen))


async def save_highlighted(pilot: Pilot[None], folder: Path) -> None:
    await pilot.press("s")
    await wait_until(pilot, lambda: typing_goes_to(pilot.app, SaveScreen))  # mounted, focused
    pilot.app.screen.query_one(Input).value = str(folder)
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_saving_a_traversal_name_lands_inside_and_never_replaces_unasked(
    mail: MailFixture, tmp_path: Path, size: tuple[int, int]
) -> None:
    await add_top(mail, rich_message())
    folder = tmp_path / "downloads" / "inner"
    folder.mkdir(parents=True)
    app = make_app(mail.store)
    async with app.run_test(size=size, notifications=True) as pilot:
        await open_top(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        await wait_until(pilot, lambda: "evil.sh (21 B, application/x-sh)" in screen_text(app))
        await save_highlighted(pilot, folder)
        saved = folder / "evil.sh"
        await wait_until(pilot, saved.exists)
        assert saved.read_bytes() == b"#!/bin/sh\necho pwned\n"
        outer = tmp_path / "downloads"
        assert sorted(p.name for p in outer.rglob("*") if p.is_file()) == ["evil.sh"]
        assert not stat.S_IMODE(saved.stat().st_mode) & 0o077

        saved.write_bytes(b"mine")  # the user's own file by that name
        await save_highlighted(pilot, folder)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert question.question == f"evil.sh is already in {folder.resolve()}. Replace it?"
        assert "Replace it?" in screen_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        assert saved.read_bytes() == b"mine"

        await save_highlighted(pilot, folder)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: saved.read_bytes() != b"mine")
        assert saved.read_bytes() == b"#!/bin/sh\necho pwned\n"
        assert sorted(p.name for p in folder.iterdir()) == ["evil.sh"]  # no temp left


async def test_a_symlink_cannot_lead_a_save_outside(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "notes.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(attachment_files.SaveError, match="outside"):
        attachment_files.save_path(folder, "notes.txt")
    assert not (tmp_path / "outside.txt").exists()
    assert attachment_files.save_path(folder, "../../x.pdf") == folder.resolve() / "x.pdf"


async def test_open_uses_a_private_copy_and_no_shell(
    mail: MailFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(attachment_files, "opener_command", lambda p: ["xdg-open", str(p)])
    monkeypatch.setattr(attachment_files, "start_opener", started.append)
    await add_top(mail, rich_message())
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        await wait_until(pilot, lambda: "notes.txt" in screen_text(app))  # its list is up
        await pilot.press("j", "o")
        await wait_until(pilot, lambda: bool(started))
    program, path = started[0]
    copy = Path(path)
    assert program == "xdg-open" and copy.name == "notes.txt"
    assert copy.read_bytes() == b"plain notes\n" * 100
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("size", SIZES)
async def test_all_headers_and_raw_source_on_a_key(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    raw = rich_message().replace(b"Subject: Quarterly numbers", b"Subject: Q\x1b]0;pwned\x07 1")
    await add_top(mail, raw)
    app = make_app(mail.store)
    async with app.run_test(size=size) as pilot:
        await open_top(pilot)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await wait_until(pilot, lambda: "Message-ID: <q1@example.test>" in screen_text(app))
        text = screen_text(app)
        assert "All header fields" in text
        assert "X-Mailer: Handwritten 1.0" in text and "Message-ID: <q1@example.test>" in text
        await pilot.press("escape")
        await pilot.press("ctrl+u")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        assert "Raw source" in screen_text(app)
        assert "Content-Type: multipart/mixed" in screen.plain
        assert "\x1b" not in screen.plain and "\x07" not in screen.plain
        assert "\x1b" not in screen_text(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: not isinstance(app.screen, SourceScreen))


def persian_message() -> bytes:
    mail = EmailMessage()
    mail["From"] = "مریم رضایی <maryam@example.test>"
    mail["To"] = "me@example.test"
    mail["Subject"] = PERSIAN
    mail["Message-ID"] = "<fa@example.test>"
    mail.set_content(f"سلام،\n{PERSIAN}\nThanks, IMAP team\n", charset="utf-8")
    return mail.as_bytes()


@pytest.mark.parametrize("size", SIZES)
async def test_persian_reads_in_visual_order_in_list_and_reader(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    await add_top(mail, persian_message(), "fa")
    app = make_app(mail.store)
    async with app.run_test(size=size) as pilot:
        await open_top(pilot)
        text = screen_text(app)
        shown = bidi.visual(PERSIAN)
        assert shown in text  # subject line of the reader, reordered and joined
        assert PERSIAN not in text  # never in logical order on a left-to-right screen
        subject = next(line for line in text.splitlines() if "Subject:" in line)
        assert subject.index("IMAP") < subject.index("POP3")
        assert bidi.visual("مریم رضایی") in text
        assert "Thanks, IMAP team" in text
        # A right-to-left paragraph is aligned to the right edge of the reader.
        body_line = next(line for line in text.splitlines() if shown in line and
                         "Subject" not in line)
        assert body_line.rstrip().endswith(shown)


async def test_bidi_off_leaves_logical_order_to_the_terminal(mail: MailFixture) -> None:
    await add_top(mail, persian_message(), "fa")
    app = make_app(mail.store, bidi=False)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await open_top(pilot)
            assert PERSIAN in screen_text(app)
    finally:
        bidi.configure(True)

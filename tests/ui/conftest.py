"""Fixtures for the UI tests: a real store with deterministic mail, a fixed clock, a
stand-in sync manager that emits events on cue, and a helper that reads the screen.

Everything that could vary between runs is pinned: "now" (relative dates), animations
(off), and the data (a fixed generator, no randomness).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App

from mailtui.app import MailApp
from mailtui.models import (
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus, Capabilities, SyncEvent

FIXED_NOW = datetime(2026, 3, 12, 15, 30, tzinfo=UTC)  # a Thursday afternoon, UTC
STEP = 9 * 3600  # between consecutive messages: the first screen shows all three date forms
SENDERS = ("Alice Archer", "Bob Baker", "Carol Cooper", "Dan Driver", "Eve Evans")


def fixed_clock() -> datetime:
    return FIXED_NOW


def message_date(index: int, step: int = STEP) -> int:
    """Message ``index`` (0 = newest) is ``index * step`` seconds older than now."""
    return int(FIXED_NOW.timestamp()) - index * step


def raw_message(index: int, subject: str, sender: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"{sender} <{sender.split()[0].lower()}@example.test>"
    mail["To"] = "Me <me@example.test>"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<m{index}@example.test>"
    mail.set_content(
        f"Hello,\n\nThis is the body of message {index}.\n\n> an older quoted line\n\n-- \n"
        f"{sender}\n"
    )
    if index % 5 == 0:
        mail.add_attachment(
            b"%PDF-1.4 " * 200,
            maintype="application",
            subtype="pdf",
            filename=f"report-{index}.pdf",
        )
    return mail.as_bytes()


def new_message(
    index: int, *, with_raw: bool = False, subject: str | None = None, step: int = STEP
) -> NewMessage:
    """Deterministic message ``index``: unread every 3rd, flagged every 7th, attachment
    every 5th."""
    sender = SENDERS[index % len(SENDERS)]
    subject = subject if subject is not None else f"Message {index:06d}"
    flags = Flag.NONE if index % 3 == 0 else Flag.SEEN
    if index % 7 == 0:
        flags |= Flag.FLAGGED
    raw = raw_message(index, subject, sender) if with_raw else None
    envelope = Envelope(
        subject=subject,
        from_=(Address(sender, f"{sender.split()[0].lower()}@example.test"),),
        to=(Address("Me", "me@example.test"),),
        date=message_date(index, step),
        size=len(raw) if raw else 2000,
        has_attachments=index % 5 == 0,
    )
    return NewMessage(str(index), envelope, flags, raw=raw)


FOLDERS = [
    RemoteFolder("Lists", "Lists"),
    RemoteFolder("Lists/python", "python", depth=1),
    RemoteFolder("Trash", "Trash", FolderRole.TRASH),
    RemoteFolder("Sent", "Sent", FolderRole.SENT),
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Drafts", "Drafts", FolderRole.DRAFTS),
]


@dataclass
class MailFixture:
    """A store with one account and its folders; ``inbox`` etc. are folder ids."""

    store: Store
    folders: dict[str, int]
    account_id: int
    window_calls: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def inbox(self) -> int:
        return self.folders["INBOX"]

    async def add(self, folder: str, messages: list[NewMessage]) -> None:
        for start in range(0, len(messages), 20_000):
            batch = FolderBatch(folder=folder, added=messages[start : start + 20_000])
            await self.store.apply_batch(self.folders[folder], batch)

    def spy_window(self) -> None:
        """Record every ``store.window`` call (folder, offset, limit); the real one runs."""
        real = self.store.window

        async def window(folder_id: int, offset: int, limit: int) -> list:  # type: ignore[type-arg]
            self.window_calls.append((folder_id, offset, limit))
            return await real(folder_id, offset, limit)

        self.store.window = window  # type: ignore[method-assign]


async def open_mail(path: Path, inbox: int, *, with_raw: int = 10) -> MailFixture:
    """A store at ``path`` whose Inbox holds ``inbox`` messages (the newest ``with_raw``
    with bodies), two in Lists/python, none elsewhere."""
    store = await Store.open(path)
    account = await store.ensure_account("home", AccountKind.IMAP, "me@example.test")
    folders = await store.sync_folders(account.id, FOLDERS)
    mail = MailFixture(store, folders, account.id)
    await mail.add("INBOX", [new_message(i, with_raw=i < with_raw) for i in range(inbox)])
    await mail.add(
        "Lists/python",
        [new_message(i, subject=f"python-list post {i}") for i in range(2)],
    )
    return mail


@pytest.fixture
async def mail(tmp_path: Path) -> AsyncIterator[MailFixture]:
    fixture = await open_mail(tmp_path / "cache.sqlite", 60)
    yield fixture
    await fixture.store.close()


class FakeManager:
    """Stands in for ``SyncManager``: the test decides what it says and when.

    A stand-in is right here because the UI is what is under test; the real manager and
    its workers have their own tests.
    """

    def __init__(self, bodies: dict[int, bytes] | None = None) -> None:
        self.listeners: list[Callable[[SyncEvent], None]] = []
        self.started = False
        self.stopped = False
        self.kicked: list[int] = []
        self.reconnects = 0  # reconnect() calls
        self.checks = 0  # check_now() calls
        self.open_folders: list[tuple[int | None, int | None]] = []  # set_open_folder calls
        self.drawn: list[int] = []  # rows_drawn calls: folders whose rows were painted
        self.caps: dict[int, Capabilities] = {}  # account id -> what its backend can do
        self.fetched: list[int] = []
        self.bodies = bodies or {}
        self.gate = asyncio.Event()  # fetch_body waits for it; tests clear it to hold bodies
        self.gate.set()
        self.statuses: dict[str, tuple[AccountStatus, str]] = {"home": (AccountStatus.STARTING, "")}
        #: change_folder calls: (account id, kind, name, new path); ``folder_server``, when
        #: set, plays the server (and the worker's folder list read after the change).
        self.folder_changes: list[tuple[int, str, str, str | None]] = []
        self.folder_server: Callable[[str, str], Awaitable[None]] | None = None

    def add_listener(self, cb: Callable[[SyncEvent], None]) -> None:
        self.listeners.append(cb)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def status(self) -> dict[str, tuple[AccountStatus, str]]:
        return dict(self.statuses)

    async def fetch_body(self, message_id: int) -> bytes | None:
        self.fetched.append(message_id)
        await self.gate.wait()
        return self.bodies.get(message_id)

    def kick(self, account_id: int) -> None:
        self.kicked.append(account_id)

    def reconnect(self) -> None:
        self.reconnects += 1

    def check_now(self) -> None:
        self.checks += 1

    def set_open_folder(self, account_id: int | None, folder_id: int | None) -> None:
        self.open_folders.append((account_id, folder_id))

    def rows_drawn(self, folder_id: int) -> None:
        self.drawn.append(folder_id)

    def gaps(self, folder_id: int) -> None:
        return None  # no first pass here: every folder is whole in the store

    def want_window(self, folder_id: int, remote_ids: list[str]) -> None:
        pass

    async def date_position(self, folder_id: int, day: date) -> int | None:
        return None  # no first pass: the store answers

    def search_server(self, folder_id: int, query: str) -> None:
        return None  # no first pass: the store's search is whole

    async def change_folder(
        self, account_id: int, kind: str, name: str, new_path: str | None = None
    ) -> str:
        self.folder_changes.append((account_id, kind, name, new_path))
        if self.folder_server is not None:
            await self.folder_server(kind, name)
        return name

    def capabilities(self, account_id: int) -> Capabilities | None:
        return self.caps.get(account_id)

    def emit(self, event: SyncEvent) -> None:
        for listener in self.listeners:
            listener(event)


def make_app(store: Store, manager: FakeManager | None = None, **kwargs: object) -> MailApp:
    app = MailApp(store, manager, clock=fixed_clock, **kwargs)  # type: ignore[arg-type]
    app.animation_level = "none"
    return app


def screen_text(app: App[object]) -> str:
    """The screen as plain text, one line per row: what a user would read.

    Renders the compositor's full update (the same call ``App.export_screenshot`` makes)
    into a recording console and keeps the characters only.
    """
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text(styles=False)


def screen_lines(app: App[object]) -> list[str]:
    return screen_text(app).splitlines()


def typing_goes_to(app: App[object], kind: type[object]) -> bool:
    """The current screen is a ``kind`` (a folder picker, a prompt) and one of its widgets
    has the focus: keys typed now go to it. Such a screen can come after the store was
    read (the folder picker: in the triage worker), and is current before it is mounted;
    a key typed earlier goes to the screen below (in the message list "d" deletes)."""
    screen = app.screen
    focused = app.focused
    return isinstance(screen, kind) and focused is not None and focused.screen is screen


def palette_searched(app: App[object], typed: str) -> bool:
    """The command palette is up with ``typed`` in its field, and its search for that has
    ended: the hits (or none) are in its list. The search runs in a worker and lists its
    hits in batches, so right after the keys the list can still be the previous one."""
    from textual.command import CommandPalette
    from textual.widgets import Input

    palette = app.screen
    if not isinstance(palette, CommandPalette) or not palette.is_mounted:
        return False
    fields = palette.query(Input)
    if not fields:
        return False
    field = fields.first()
    return (
        field.value == typed
        and field._message_queue.empty()  # its Changed message has reached the palette
        and palette._message_queue.empty()
        and not any(worker.node is palette for worker in app.workers)  # the search ended
    )


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of this test run that all its worker processes share: under xdist
    each worker's base temp dir is ``<run>/popen-gwN``, so their parent."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    shared.mkdir(exist_ok=True)
    return shared

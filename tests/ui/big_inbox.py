"""One 200,000-message Inbox for the tests that show that the UI reads only what it shows
(tests/ui/test_main_screen.py, test_threads.py).

Building it (``open_mail`` with ``new_message(i, step=60)`` for i < 200,000) is 8 s of CPU
on a quiet machine and several times that on a busy one, the same store each time: it is
built once per test run, under a lock in the ``shared_dir`` (conftest.py) that every
pytest-xdist worker of the run shares, and each test gets its own copy of the files.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

from mailtui.models import AccountKind
from mailtui.store import Store

from .conftest import FOLDERS, MailFixture, new_message, open_mail

BIG_INBOX = 200_000
_NAME = "big-inbox.sqlite"


async def open_big_inbox(path: Path, shared: Path) -> MailFixture:
    """What ``open_mail(path, 0)`` opens, with BIG_INBOX messages
    (``new_message(i, step=60)``) added to its Inbox: a copy of the run's one build."""
    built = shared / _NAME
    with open(shared / "big-inbox.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it
        if not (shared / "big-inbox.done").exists():
            for partial in shared.glob(_NAME + "*"):  # of a build that failed
                shutil.rmtree(partial) if partial.is_dir() else partial.unlink()
            mail = await open_mail(built, 0)
            await mail.add("INBOX", [new_message(i, step=60) for i in range(BIG_INBOX)])
            await mail.store.close()
            (shared / "big-inbox.done").touch()
    for source in shared.glob(_NAME + "*"):  # the database and whatever goes with it
        target = path.with_name(path.name + source.name.removeprefix(_NAME))
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    store = await Store.open(path)
    account = await store.ensure_account("home", AccountKind.IMAP, "me@example.test")
    folders = await store.sync_folders(account.id, FOLDERS)
    return MailFixture(store, folders, account.id)

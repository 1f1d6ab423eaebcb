"""``python -m tests.integration.pop3_window_run sync --once``: the real ``mailtui``
command, with a user who presses the end key as soon as the first screen of a first POP3
download is in (test_pop3_window.py kills it at points of that download).

The first screen is ``FIRST_SCREEN`` headers and the batches are small, so that a few
dozen messages make a first download of many batches; right after its first batch is
committed, the worker is asked for the ``OLDEST`` oldest messages of the listing (what
the list asks for when it shows their placeholders: ``SyncManager.want_window``)."""

from __future__ import annotations

import sys

import mailtui.protocols.pop3.pull as pull
from mailtui.cli import main
from mailtui.models import FolderBatch
from mailtui.sync.window import Windows

FIRST_SCREEN = 20
OLDEST = 15


def run() -> int:
    pull.FIRST_SCREEN = FIRST_SCREEN
    pull.HEADER_BATCH = 20
    committed = Windows.committed

    def then_the_end_key(self: Windows, folder_id: int, batch: FolderBatch) -> None:
        committed(self, folder_id, batch)
        if batch.listing is not None and not batch.complete:
            self.want(folder_id, batch.listing[-OLDEST:])

    Windows.committed = then_the_end_key  # type: ignore[method-assign]
    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())

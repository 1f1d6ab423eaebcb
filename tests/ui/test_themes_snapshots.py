"""The main screen in three of the built-in themes (dark default, light, 16 colours).
Update with ``pytest tests/ui --snapshot-update`` after an intended change, and look at
the SVGs first."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import MailFixture, make_app
from .test_snapshots import after, filled  # noqa: F401  (fixture)

SnapCompare = Callable[..., bool]


@pytest.mark.parametrize("theme", ["mailtui-dark", "mailtui-light", "ansi-16"])
def test_main_screen_in_theme(snap_compare: SnapCompare, filled: MailFixture, theme: str) -> None:  # noqa: F811
    app = make_app(filled.store, theme=theme)
    assert snap_compare(app, terminal_size=(100, 24), run_before=after(showing="Message 000021"))

"""The setup wizard's POP3 download answer (``download_choice``): each option, and
answers that are none of them."""

from __future__ import annotations

import pytest

from mailtui.ui.screens.setup import DOWNLOAD_CHOICES, download_choice


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("keep", {}),
        (" Keep ", {}),
        ("", {}),
        ("here", {"delete_when_deleted_here": True}),
        ("delete", {"leave_on_server": False}),
        ("30", {"delete_after_days": 30}),
    ],
)
def test_each_option(text: str, options: dict[str, object]) -> None:
    assert download_choice(text) == options


@pytest.mark.parametrize("text", ["0", "-3", "36501", "yes", "3 days", "2.5"])
def test_not_an_option(text: str) -> None:
    assert download_choice(text) is None


def test_every_option_is_explained_in_one_line() -> None:
    assert [word for word, _ in DOWNLOAD_CHOICES] == ["keep", "N", "here", "delete"]
    assert all("\n" not in what and len(what) <= 70 for _, what in DOWNLOAD_CHOICES)

"""The attach prompt completes file names, not only the folder: Tab completes as a shell
does and goes on into a completed folder, the matches are listed, and Enter on a folder
keeps the prompt open."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import Input

from mailtui.ui.modals.attach_prompt import AttachPrompt, complete

from .conftest import screen_text
from .test_main_screen import wait_until


class PromptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(AttachPrompt(), self.answers.append)


def files(tmp_path: Path) -> Path:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "q3-summary.pdf").write_bytes(b"%PDF")
    (tmp_path / "reports" / "q4-draft.odt").write_bytes(b"PK")
    (tmp_path / "reports" / ".lock").write_text("x")
    return tmp_path


async def test_tab_completes_into_the_folder_and_the_file_name_at_80x24(
    tmp_path: Path,
) -> None:
    base = files(tmp_path)
    app = PromptApp()
    async with app.run_test(size=(80, 24)) as pilot:
        field = app.screen.query_one(Input)
        field.value = f"{base}/rep"
        field.cursor_position = len(field.value)
        await pilot.press("tab")
        await wait_until(pilot, lambda: field.value == f"{base}/reports/")
        assert field.has_focus  # Tab completed; the focus stayed in the field
        await wait_until(pilot, lambda: "q3-summary.pdf  q4-draft.odt" in screen_text(app))
        await pilot.press("enter")  # a folder cannot be attached: the prompt stays
        await wait_until(pilot, lambda: "That is a folder" in screen_text(app))
        assert app.answers == []
        await pilot.press("tab")  # both files start with q: as far as they agree
        await wait_until(pilot, lambda: field.value == f"{base}/reports/q")
        await pilot.press("3", "tab")
        await wait_until(pilot, lambda: field.value == f"{base}/reports/q3-summary.pdf")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.answers == [f"{base}/reports/q3-summary.pdf"])


def test_complete(tmp_path: Path) -> None:
    base = files(tmp_path)
    assert complete(f"{base}/r") == f"{base}/reports/"
    assert complete(f"{base}/reports/") == f"{base}/reports/q"
    assert complete(f"{base}/reports/q4") == f"{base}/reports/q4-draft.odt"
    assert complete(f"{base}/reports/q4-draft.odt") == f"{base}/reports/q4-draft.odt"
    assert complete(f"{base}/reports/.l") == f"{base}/reports/.lock"
    assert complete(f"{base}/nope/x") == f"{base}/nope/x"

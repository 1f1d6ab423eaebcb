"""The key table: no two bindings answer the same key where both are live, every triage
action is in the palette's reach, and [ui.keys] rebinds triage keys by id."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from mailtui.models import Flag
from mailtui.ui import keymap

from .conftest import make_app, open_mail, screen_text
from .test_main_screen import rows_loaded, wait_until

#: What is live at once on the main screen, by focus: the focused widget's context first,
#: then the screen's and the app's. A key in two of these is a conflict.
MAIN_SCREEN_CHAINS = {
    "list": ("list", "triage", "panes", "writing", "global", "appearance"),
    "folders": ("folders", "triage", "panes", "writing", "global", "appearance"),
}
#: The reader shadows on purpose: Esc and q close it (in the list q quits, Esc is "back").
READER_SHADOWS = {"escape", "q"}


def keys_by_context() -> dict[str, dict[str, list[str]]]:
    table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for spec in keymap.KEYS:
        for key in keymap.effective_keys(spec.id, {}):
            table[spec.context][key].append(spec.id)
    return table


def test_no_two_bindings_in_one_context_share_a_key() -> None:
    for context, keys in keys_by_context().items():
        clashes = {key: ids for key, ids in keys.items() if len(ids) > 1}
        assert not clashes, f"{context}: {clashes}"


@pytest.mark.parametrize("focus", sorted(MAIN_SCREEN_CHAINS))
def test_nothing_on_the_main_screen_hides_another_binding(focus: str) -> None:
    table = keys_by_context()
    owner: dict[str, str] = {}
    for context in MAIN_SCREEN_CHAINS[focus]:
        for key, ids in table.get(context, {}).items():
            assert key not in owner, f"{key!r}: {owner.get(key)} and {ids}"
            owner[key] = ids[0]


def test_the_reader_shadows_only_close() -> None:
    table = keys_by_context()
    reader = set(table["reader"])
    for context in ("triage", "panes", "writing", "global", "appearance"):
        assert reader & set(table.get(context, {})) <= READER_SHADOWS, context


def test_every_binding_has_an_id_and_mutt_and_vim_defaults_are_there() -> None:
    ids = [spec.id for spec in keymap.KEYS]
    assert len(ids) == len(set(ids))
    by_id = {spec.id: set(keymap.effective_keys(spec.id, {})) for spec in keymap.KEYS}
    assert {"j", "down"} <= by_id["list.down"] and {"k", "up"} <= by_id["list.up"]  # vim
    assert "d" in by_id["triage.delete"] and "t" in by_id["list.select"]  # mutt
    assert "s" in by_id["triage.move"] and "c" in by_id["triage.goto"]  # mutt save, change
    assert "slash" in by_id["triage.filter"] and "colon" in by_id["app.palette"]  # vim
    assert "u" in by_id["triage.undo"]


async def test_ui_keys_rebind_a_triage_action_by_id(tmp_path: Path) -> None:
    mail = await open_mail(tmp_path / "cache.sqlite", 30)
    try:
        app = make_app(mail.store, keymap={"triage.flag": "ctrl+y"})
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: rows_loaded(pilot))
            rows = await mail.store.window(mail.inbox, 0, 2)
            await pilot.press("j", "F")  # the default no longer flags
            await pilot.pause(0.2)
            detail = await mail.store.message(rows[1].id)
            assert detail is not None and not detail.row.flags & Flag.FLAGGED
            await pilot.press("ctrl+y")
            await wait_until(pilot, lambda: "Flagged 1 message" in screen_text(app))
            detail = await mail.store.message(rows[1].id)
            assert detail is not None and detail.row.flags & Flag.FLAGGED
    finally:
        await mail.store.close()

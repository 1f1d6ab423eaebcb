"""``[ui]`` typos stop mailtui with one line, and a keymap is applied whole or refused:
unknown binding ids, key names that do not exist, keys that collide with another command
where the rebound one works; an unknown theme. The ids are in ``?``, the palette and
docs/keys.md (which cannot go stale)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailtui.errors import ConfigError
from mailtui.models import Flag
from mailtui.ui import keymap, keymap_check, keymap_doc, themes
from mailtui.ui.keymap_check import KeymapError, check
from mailtui.ui.screens.help import HelpScreen

from .conftest import MailFixture, make_app, screen_text
from .test_main_screen import cursor_screen_line, rows_loaded, wait_until

ROOT = Path(__file__).resolve().parents[2]
J_FOR_FLAG = {"triage.flag": "j", "list.down": "down", "folders.down": "down",
              "reader.down": "down"}


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"triage.flagg": "j"}, "unknown binding triage.flagg; did you mean triage.flag?"),
        ({"nothing.like.it": "j"}, "unknown binding nothing.like.it (`?` lists every id)"),
        ({"triage.flag": "ctrl+dd"}, "'dd' is not a key name"),
        ({"triage.flag": "ctrl+dd"}, 'did you mean "ctrl+d"?'),
        ({"app.help": "F1"}, 'did you mean "f1"?'),
        ({"triage.flag": "cmd+f"}, "'cmd' is not a modifier"),
        ({"triage.flag": " , "}, 'expected a key name such as "ctrl+r"'),
        # j moves the cursor in the list, the folders and the reader, where F works
        ({"triage.flag": "j"},
         '"triage.flag" = "j": j already does list.down (Next message), folders.down '
         "(Next folder), reader.down (Scroll down) where triage.flag (Flag/unflag) works; "
         'rebind them too (e.g. "list.down" = "down"; '),
        ({"app.quit": "x"}, "x already does list.select (Select/unselect), outbox.discard"),
        ({"list.down": "k"}, "k already does list.up"),
        ({"triage.delete": "ctrl+d", "triage.archive": "ctrl+d"},
         "Ctrl+d already does triage.archive"),
    ],
)
def test_a_keymap_that_cannot_be_applied_whole_is_refused(
    keys: dict[str, str], message: str
) -> None:
    with pytest.raises(KeymapError) as caught:
        check(keys)
    assert message in str(caught.value)
    assert isinstance(caught.value, ConfigError)  # the CLI's exit code for config errors


def test_a_keymap_that_fits_is_applied_tidied() -> None:
    assert check(J_FOR_FLAG) == J_FOR_FLAG
    assert check({"triage.flag": "f11, f12"}) == {"triage.flag": "f11,f12"}
    # Collisions the defaults have on purpose stay allowed (q quits, and closes first).
    assert check({"reader.close": "escape,q,x"}) == {"reader.close": "escape,q,x"}
    assert check({"links.copy": "c", "app.help": "f1,question_mark"})
    assert check({}) == {}


def test_the_defaults_collide_only_where_meant() -> None:
    """Every default key passes the check as if the user had written it."""
    for spec in keymap.KEYS:
        assert check({spec.id: spec.keys}) == {spec.id: spec.keys}, spec.id
        for key in keymap.effective_keys(spec.id, {}):
            assert keymap_check.key_problem(key) is None, (spec.id, key)


def test_every_context_has_its_place_in_the_nesting() -> None:
    placed = set(keymap_check._NODE_OF_CONTEXT) | keymap_check.MODAL_CONTEXTS
    assert set(keymap.CONTEXT_TITLES) == placed
    assert {spec.context for spec in keymap.KEYS} <= placed


def test_unknown_theme_names_the_close_match_and_the_themes() -> None:
    with pytest.raises(ConfigError) as caught:
        themes.check_name("mailtui-drak", None)
    message = str(caught.value)
    assert "no theme named 'mailtui-drak'; did you mean 'mailtui-dark'?" in message
    assert "mailtui-light" in message and "high-contrast" in message
    themes.check_name("mailtui-dark", None)
    themes.check_name("nord", None)  # Textual's own themes are there too


def test_a_broken_user_theme_file_named_in_the_config_says_why(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('name = "mine"\n')
    with pytest.raises(ConfigError, match=r"'mine' cannot be used: .*mine.toml: primary"):
        themes.check_name("mine", tmp_path)


def test_the_app_refuses_half_a_keymap(mail: MailFixture) -> None:
    with pytest.raises(KeymapError, match="list.down"):
        make_app(mail.store, keymap={"triage.flag": "j"})


async def test_a_rebind_moves_the_action_to_the_new_key_at_80x24(mail: MailFixture) -> None:
    app = make_app(mail.store, keymap=J_FOR_FLAG)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        row = (await mail.store.window(mail.inbox, 0, 1))[0]

        async def flagged() -> bool:
            detail = await mail.store.message(row.id)
            assert detail is not None
            return bool(detail.row.flags & Flag.FLAGGED)

        before = await flagged()
        await pilot.press("F")  # the old key no longer flags
        await pilot.pause(0.2)
        assert await flagged() == before
        await pilot.press("j")  # the new key flags, and no longer moves the cursor
        word = "Unflagged" if before else "Flagged"
        await wait_until(pilot, lambda: f"{word} 1 message" in screen_text(app))
        assert await flagged() != before
        assert cursor_screen_line(pilot) == 0
        await pilot.press("down")
        assert cursor_screen_line(pilot) == 1


async def test_help_and_palette_show_the_binding_ids_at_80x24(mail: MailFixture) -> None:
    app = make_app(mail.store, keymap=J_FOR_FLAG)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await wait_until(pilot, lambda: "app.quit" in screen_text(app))  # its table is up
        text = screen_text(app)
        assert re.search(r"Down +Next message +list\.down", text), text
        assert re.search(r"q +Quit +app\.quit", text), text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("colon")
        await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
        await pilot.press(*"flag/unf")
        await wait_until(pilot, lambda: "Flag/unflag  (j · triage.flag)" in screen_text(app))


def test_docs_keys_lists_every_binding_id() -> None:
    doc = (ROOT / "docs" / "keys.md").read_text(encoding="utf-8")
    for spec in keymap.KEYS:
        assert f"| `{spec.id}` |" in doc, spec.id
    assert doc == keymap_doc.markdown(), "regenerate: python -m mailtui.ui.keymap_doc"

"""Snapshots of the setup wizard at 80x24 (pytest-textual-snapshot): the first step, and
the servers step as a proposal fills it. Discovery itself is not run here (its results
arrive in an order no snapshot can fix): the servers step is shown with a proposal
made from fixed source results, as the discover step would make it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import OptionList

from mailtui.config import Config
from mailtui.discovery import Email, Options, Server, Source, SourceResult, Status
from mailtui.ui.screens.setup import SetupApp, SetupScreen

SnapCompare = Callable[..., bool]
OFFLINE = Options(sources=frozenset())  # no source runs: nothing leaves the machine


def _app(tmp_path: Path, **kw: Any) -> SetupApp:
    return SetupApp(Config(path=tmp_path / "config.toml"), OFFLINE, **kw)


def test_who_at_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path, offer_demo=True), terminal_size=(80, 24))


def test_servers_at_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_servers("imap"))


def test_pop3_servers_at_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """POP3's download options fit under the servers, the focused one's help below."""
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_servers("pop3"))


def _servers(kind: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, SetupScreen)
        email = Email.parse("ann@example.org")
        screen.email = email
        servers = (
            Server(kind, f"{kind}.example.org", 993, "tls", "ann", Source.AUTOCONFIG),
            Server("smtp", "smtp.example.org", 587, "starttls", "ann", Source.AUTOCONFIG),
        )
        screen.results = [SourceResult(Source.AUTOCONFIG, Status.FOUND, servers, "", "Example")]
        screen.discovered = True
        screen._found_so_far(email)
        screen._show("discover")
        await pilot.pause()
        kinds = screen.query_one("#kinds", OptionList)
        kinds.action_select()
        await pilot.pause()
        assert screen.step == "servers"

    return run

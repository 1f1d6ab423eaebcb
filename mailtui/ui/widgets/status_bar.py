"""The status line above the footer: where you are, and what each account is doing.

    Inbox · 3 unread of 1,204  2 new  demo: syncing headers ▕███░░░░░▏ 400/3,000 · about 12s left
    Inbox · 3 unread of 1,204       work: offline · retry in 12s · F5: now

Three regions, each cut with its own ellipsis and kept apart by blanks, so a long notice
never runs into an account's state: the location, the notice, and (on the right) new mail
and the accounts. An account waiting out a backoff counts down to its next
attempt, with the key that tries at once ("reconnect now"); one whose login was refused
shows that key too, or the sign-in key when mailtui signs the account in itself (OAuth2
with an ``oauth`` table: "work: login refused · F7: sign in"). A folder's sync shows its
headers fetched of the folder's total and, after a few seconds of it, the time left at
the rate seen so far (``time_left``). When the accounts' texts do not fit, each is said
in its short form (up to its first colon: "offline since 10:02", "login refused"), then
as its state alone ("offline"), before anything is cut.

The screen sets ``location`` and calls ``set_account``/``set_notice``; the bar only draws.
A notice goes away after ``NOTICE_SECONDS`` unless set without expiry ("Loading…").
``note_event`` counts new mail: messages added to an account after its first sync of the
session went through (the first download of a mailbox is not "new mail"); the app rings
the bell or shows a notice from that count, as ``[ui] bell`` / ``notify`` say, and the
screen clears it once a message is read. Account texts come from the sync manager in plain
words and are sanitized like mail, since they may quote a server's reply.
"""

from __future__ import annotations

import math
import re
import time
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from mailtui.mime.sanitize import clean_line
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.ui import keymap

_TROUBLE = {AccountStatus.OFFLINE, AccountStatus.AUTH_FAILED, AccountStatus.ERROR}
_BUSY = {AccountStatus.STARTING, AccountStatus.CONNECTING, AccountStatus.SYNCING}
BAR_CELLS = 8
_STATE_WORDS = {AccountStatus.AUTH_FAILED: "login refused", AccountStatus.ONLINE: "in step"}
NOTICE_SECONDS = 15.0
GAP = "  "  # between the location and the notice
NOTICE_MIN = 16  # cells a notice keeps when the location is long
ESTIMATE_AFTER = 2.0  # seconds of progress before the bar says how long is left
#: A count that moves redraws the bar at most this often (seconds): a first sync reports
#: a batch every ≈ 50 ms, and each redraw was a frame of its own (61 of the 113 frames of
#: the 100,000-message UI pass of bench/first_sync_ui.py, 2026-12-05).
PROGRESS_PAINT = 0.25


def time_left(done: int, total: int, since: tuple[float, int], now: float) -> str:
    """``about 1m 20s left`` at the rate seen since ``since`` (the time and the count
    when the count began to move); empty until ``ESTIMATE_AFTER`` seconds of it."""
    started, at_start = since
    elapsed = now - started
    if elapsed < ESTIMATE_AFTER or done <= at_start or done >= total:
        return ""
    seconds = math.ceil((total - done) * elapsed / (done - at_start))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"about {hours}h {minutes:02d}m left"
    return f"about {minutes}m {seconds:02d}s left" if minutes else f"about {seconds}s left"


def progress_bar(done: int, total: int, cells: int = BAR_CELLS) -> str:
    """``▕███░░░░░▏``: how far ``done`` is of ``total``, in ``cells`` cells."""
    filled = 0 if total <= 0 else min(cells, done * cells // total)
    return "▕" + "█" * filled + "░" * (cells - filled) + "▏"


class StatusBar(Widget):
    """One line: the open folder on the left, account states on the right."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--trouble",
        "status-bar--busy",
        "status-bar--notice",
    }

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        & > .status-bar--trouble {
            color: $error;
            text-style: bold;
        }
        & > .status-bar--busy {
            color: $warning;
        }
        & > .status-bar--notice {
            color: $accent;
        }
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._location = ""
        self._notice = ""
        self._accounts: dict[str, tuple[AccountStatus, str]] = {}
        self._retry_at: dict[str, float] = {}  # account -> time.time() of its next attempt
        self._notice_timer: Timer | None = None
        self._progress: dict[str, tuple[int, int]] = {}
        self._phase: dict[str, str] = {}  # account -> what is counted: headers, bodies
        # account -> (time.monotonic(), done) when its progress began: the time estimate
        self._progress_since: dict[str, tuple[float, int]] = {}
        self._settled: set[str] = set()  # accounts whose first sync is done
        self._progress_painted = float("-inf")  # time.monotonic() of the last count drawn
        self._progress_timer: Timer | None = None  # the next count's redraw, when held
        self.new_mail = 0

    def note_event(self, event: SyncEvent) -> int:
        """Count new mail from a sync event; returns how many messages it brought."""
        if event.kind == EventKind.STATUS and event.status == AccountStatus.ONLINE:
            self._settled.add(event.account)
        new = event.kind == EventKind.MESSAGES and event.added > 0
        if new and event.account in self._settled:
            self.new_mail += event.added
            self.refresh()
            return event.added
        return 0

    def clear_new_mail(self) -> None:
        self.new_mail = 0
        self.refresh()

    @property
    def text(self) -> str:
        """What the bar says, as plain text (for tests and screen readers)."""
        return self.render().plain

    def set_location(self, location: str) -> None:
        if location != self._location:  # a redraw is ~0.3 ms, on the key path
            self._location = location
            self.refresh()

    def on_mount(self) -> None:
        # The countdown to an account's next attempt; a redraw only while one runs.
        self.set_interval(1.0, self._tick, name="retry-countdown")

    def _tick(self) -> None:
        if self._retry_at or self._progress:
            self.refresh()

    def set_notice(self, notice: str, *, expire: float | None = NOTICE_SECONDS) -> None:
        """A short transient message; empty to clear it. It goes after ``expire``
        seconds (None: when replaced or cleared, e.g. "Loading…")."""
        if self._notice_timer is not None:
            self._notice_timer.stop()
            self._notice_timer = None
        if notice and expire is not None and self.is_mounted:
            self._notice_timer = self.set_timer(expire, self._expire_notice, name="notice")
        if notice != self._notice:
            self._notice = notice
            self.refresh()

    def _expire_notice(self) -> None:
        self._notice_timer = None
        self.set_notice("")

    @property
    def notice(self) -> str:
        return self._notice

    def set_account(
        self,
        account: str,
        status: AccountStatus,
        text: str = "",
        retry_at: float | None = None,
    ) -> None:
        """The account's state; ``retry_at`` (time.time()) while it waits to try again."""
        self._accounts[account] = (status, text)
        if retry_at is None:
            self._retry_at.pop(account, None)
        else:
            self._retry_at[account] = retry_at
        if status != AccountStatus.SYNCING:
            self._progress.pop(account, None)
            self._progress_since.pop(account, None)
        self.refresh()

    def set_progress(self, account: str, done: int, total: int, phase: str = "headers") -> None:
        """How far a folder's sync (or the body download: ``phase``) is, shown while the
        account is syncing."""
        if 0 <= done < total:
            last = self._progress.get(account)
            if phase != self._phase.get(account):
                last = None
            self._phase[account] = phase
            moved = last is not None and last[1] == total and done >= last[0]
            if not moved:  # a new count: another folder's run, or another phase
                self._progress_since[account] = (time.monotonic(), done)
            self._progress[account] = (done, total)
            if moved:
                self._paint_progress_soon()
                return
        else:
            self._progress.pop(account, None)
            self._progress_since.pop(account, None)
        self._paint_progress()

    def _paint_progress(self) -> None:
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        self._progress_painted = time.monotonic()
        self.refresh()

    def _paint_progress_soon(self) -> None:
        """Redraw a count that moved now, or ``PROGRESS_PAINT`` after the last one."""
        wait = self._progress_painted + PROGRESS_PAINT - time.monotonic()
        if wait <= 0 or not self.is_mounted:
            self._paint_progress()
        elif self._progress_timer is None:
            self._progress_timer = self.set_timer(wait, self._progress_due, name="progress")

    def _progress_due(self) -> None:
        self._progress_timer = None  # this timer's own run: nothing to stop
        self._paint_progress()

    def set_accounts(self, statuses: dict[str, tuple[AccountStatus, str]]) -> None:
        self._accounts = dict(statuses)
        self._retry_at = {a: t for a, t in self._retry_at.items() if a in statuses}
        self.refresh()

    def _status_style(self, status: AccountStatus) -> Style:
        if status in _TROUBLE:
            return self.get_component_rich_style("status-bar--trouble", partial=True)
        if status in _BUSY:
            return self.get_component_rich_style("status-bar--busy", partial=True)
        return Style()

    def _key(self, binding_id: str) -> str:
        overrides = getattr(self.app, "keymap_overrides", {})
        keys = keymap.effective_keys(binding_id, overrides)
        label = keymap.key_label(keys[0]) if keys else ""
        return label.upper() if re.fullmatch(r"f\d+", label) else label  # F5, as on the key

    def _accounts_text(self, short: int) -> Text:
        """Every account's state; ``short`` 1: each text up to its first colon, 2: the
        state alone."""
        out = Text(end="")
        key = self._key("app.reconnect")
        sign_in = self._key("app.sign_in")
        # Accounts mailtui signs in itself (an oauth table): a refused login is mended by
        # signing in again, so their key is the sign-in key, not "retry".
        signs_in = getattr(self.app, "sign_in_accounts", {})
        typed: frozenset[str] = getattr(self.app, "password_accounts", frozenset())
        now = time.time()
        # Accounts in trouble first: at 80 columns the end of the line may be cut.
        ordered = sorted(self._accounts.items(), key=lambda i: (i[1][0] not in _TROUBLE, i[0]))
        for account, (status, text) in ordered:
            if out:
                out.append(" · ")
            words = clean_line(text) or status.value.replace("_", " ")
            if short == 1:
                words = words.split(": ", 1)[0]
            elif short == 2:
                words = _STATE_WORDS.get(status, status.value.replace("_", " "))
            out.append(f"{clean_line(account)}: ")
            out.append(words, style=self._status_style(status))
            if account in self._progress:
                done, total = self._progress[account]
                out.append(f" {self._phase.get(account, 'headers')} " + progress_bar(done, total))
                out.append(f" {done:,}/{total:,}")
                since = self._progress_since.get(account)
                left = time_left(done, total, since, time.monotonic()) if since else ""
                if left and not short:
                    out.append(f" · {left}")
            retry_at = self._retry_at.get(account)
            if retry_at is not None:
                out.append(f" · retry in {max(0, math.ceil(retry_at - now))}s")
                if key:
                    out.append(f" · {key}: now")
            elif sign_in and status is AccountStatus.AUTH_FAILED and account in signs_in:
                out.append(f" · {sign_in}: sign in")
            elif sign_in and status is AccountStatus.AUTH_FAILED and account in typed:
                out.append(f" · {sign_in}: password")
            elif key and status in (AccountStatus.AUTH_FAILED, AccountStatus.ERROR):
                out.append(f" · {key}: retry")
        return out

    def render(self) -> Text:
        width = max(1, self.size.width)
        notice_style = self.get_component_rich_style("status-bar--notice", partial=True)
        new = Text(f"{self.new_mail:,} new" if self.new_mail else "", notice_style, end="")
        # The right region: new mail and the accounts, in full if they fit in about half
        # the line, else in their short forms, else cut with an ellipsis.
        room = max(1, width // 2 + 9)
        right = Text(end="")
        for short in (0, 1, 2):
            right = Text.assemble(new, GAP if new and self._accounts else "", end="")
            right.append_text(self._accounts_text(short))
            if right.cell_len <= room:
                break
        right.truncate(room, overflow="ellipsis")
        # The left regions: where you are, then the notice, each cut on its own; the
        # notice keeps at least NOTICE_MIN cells. One blank always parts them from the
        # right region (at the line's end when nothing is cut).
        left_room = max(0, width - right.cell_len - 1)
        location = Text(" " + self._location, end="")
        notice = Text(self._notice, notice_style, end="")
        if notice:
            keep = max(0, left_room - len(GAP) - min(notice.cell_len, NOTICE_MIN))
            if location.cell_len > keep:
                location.truncate(keep, overflow="ellipsis")
            rest = max(0, left_room - location.cell_len - len(GAP))
            notice.truncate(rest, overflow="ellipsis")
            left = Text.assemble(location, GAP, notice, end="")
        else:
            location.truncate(left_room, overflow="ellipsis")
            left = location
        if left.cell_len < left_room:
            left.pad_right(left_room - left.cell_len)
            return Text.assemble(left, right, " ", no_wrap=True, end="")
        return Text.assemble(left, " ", right, no_wrap=True, end="")

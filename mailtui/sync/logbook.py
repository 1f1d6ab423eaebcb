"""What ``mailtui.log`` says about an account: the lines a bug report needs.

The status bar shows the present; the log keeps the story: when an account went offline
and why, when it was back, a refused login, an action the server refused, with the
account's name and the error's text. The texts are the servers' replies and mailtui's own
messages, never a command line sent to a server, so no password, token or AUTH exchange
reaches the file (``tests/integration/test_log_file.py`` checks it after a real login
failure).

A worker retrying a dead server sets the same status again and again; a line is written
only when the account's state or its reason changes, so an offline night is one line, not
hundreds.
"""

from __future__ import annotations

import logging

from mailtui.sync.contract import AccountStatus

log = logging.getLogger("mailtui.account")

# On the way to a state, not a state of their own: not worth a line each round.
_PASSING = frozenset({AccountStatus.STARTING, AccountStatus.CONNECTING, AccountStatus.SYNCING})
_TROUBLE = frozenset({AccountStatus.OFFLINE, AccountStatus.AUTH_FAILED, AccountStatus.ERROR})


class AccountLog:
    """The log lines of one account (``Worker`` owns one)."""

    def __init__(self, account: str) -> None:
        self.account = account
        self._last: tuple[AccountStatus, str] | None = None

    def status(self, status: AccountStatus, text: str) -> None:
        """The account's status changed to ``status`` (``text``: the status bar's words)."""
        if status in _PASSING:
            return
        last = self._last
        if status is AccountStatus.ONLINE:
            if last is not None and last[0] is AccountStatus.ONLINE:
                return  # in step again after a sync round: nothing new
            back = last is not None and last[0] in _TROUBLE
            log.info("%s: %s: %s", self.account, "back online" if back else "online", text)
        elif status in _TROUBLE:
            if last == (status, text):
                return
            what = {
                AccountStatus.OFFLINE: "offline",
                AccountStatus.AUTH_FAILED: "login refused",
                AccountStatus.ERROR: "stopped",
            }[status]
            # The status bar's words mostly say it already ("offline since 09:12: …").
            line = text if text.startswith(what) else f"{what}: {text}"
            log.warning("%s: %s", self.account, line)
        else:
            log.info("%s: %s", self.account, status.value)
        self._last = (status, text)

    def op_refused(self, kind: str, text: str) -> None:
        """The server refused an action for good (it is dropped, the user was told)."""
        log.warning("%s: the server refused %s: %s", self.account, kind, text)

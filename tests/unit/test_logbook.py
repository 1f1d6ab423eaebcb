"""Which status changes of an account reach ``mailtui.log``: each state and reason once,
not every retry of a dead server or every sync round."""

from __future__ import annotations

import logging

import pytest

from mailtui.sync.contract import AccountStatus as S
from mailtui.sync.logbook import AccountLog


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.levelname} {r.getMessage()}" for r in caplog.records]


def test_a_night_offline_is_one_line_and_the_way_back_another(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mailtui.account")
    book = AccountLog("work")
    for status, text in [
        (S.CONNECTING, "connecting"),
        (S.SYNCING, "syncing"),
        (S.ONLINE, "in step"),
        (S.SYNCING, "syncing"),
        (S.ONLINE, "in step"),  # another round: nothing new
        *[(s, t) for _ in range(5) for s, t in [
            (S.CONNECTING, "connecting"),
            (S.OFFLINE, "offline since 01:00: connection refused"),
        ]],
        (S.OFFLINE, "offline since 01:00: the server did not answer in time"),  # new reason
        (S.CONNECTING, "connecting"),
        (S.ONLINE, "in step"),
        (S.AUTH_FAILED, "login refused: Authentication failed."),
        (S.ERROR, "does not offer STARTTLS"),
        (S.STOPPED, "stopped"),
    ]:
        book.status(status, text)
    assert lines(caplog) == [
        "INFO work: online: in step",
        "WARNING work: offline since 01:00: connection refused",
        "WARNING work: offline since 01:00: the server did not answer in time",
        "INFO work: back online: in step",
        "WARNING work: login refused: Authentication failed.",
        "WARNING work: stopped: does not offer STARTTLS",
        "INFO work: stopped",
    ]


def test_a_refused_action_names_the_account_and_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mailtui.account")
    AccountLog("home").op_refused("move", "[TRYCREATE] Mailbox doesn't exist: Archive")
    assert lines(caplog) == [
        "WARNING home: the server refused move: [TRYCREATE] Mailbox doesn't exist: Archive"
    ]

"""What a POP3 account deletes on the server, and when (mailtui/protocols/pop3/policy.py),
and the kind's checks of contradictory download options."""

from __future__ import annotations

import dataclasses

import pytest

from mailtui.config import parse
from mailtui.errors import ConfigError
from mailtui.models import Downloaded
from mailtui.protocols.kinds import kind
from mailtui.protocols.pop3.policy import DAY, Keeping, content_key

ROW = Downloaded("u1", downloaded_at=1000, whole=True, key="", deleted_here=False, gone=False)


def test_nothing_is_deleted_by_default() -> None:
    keep = Keeping()
    assert not keep.deletes
    assert not keep.due(dataclasses.replace(ROW, deleted_here=True), now=1000 + 999 * DAY)


def test_each_rule() -> None:
    assert Keeping(leave_on_server=False).due(ROW, now=1000)
    days = Keeping(delete_after_days=3)
    assert not days.due(ROW, now=1000 + 3 * DAY - 1) and days.due(ROW, now=1000 + 3 * DAY)
    here = Keeping(delete_when_deleted_here=True)
    assert not here.due(ROW, now=1000) and here.due(
        dataclasses.replace(ROW, deleted_here=True), now=1000
    )
    assert all(k.deletes for k in (Keeping(leave_on_server=False), days, here))


def test_a_header_only_row_is_never_deleted() -> None:
    header_only = dataclasses.replace(ROW, whole=False, deleted_here=True)
    for keep in (
        Keeping(leave_on_server=False),
        Keeping(delete_after_days=1),
        Keeping(delete_when_deleted_here=True),
    ):
        assert not keep.due(header_only, now=1000 + 99 * DAY)


def test_header_only_above_the_limit_or_what_the_client_takes() -> None:
    assert Keeping(max_bytes=1024).header_only(1025, ceiling=10**9)
    assert not Keeping(max_bytes=1024).header_only(1024, ceiling=10**9)
    assert Keeping().header_only(10**9 + 1, ceiling=10**9)
    assert not Keeping().header_only(10**8, ceiling=10**9)


def test_content_key() -> None:
    assert content_key("<a@b>", b"Subject: x\r\n\r\n", 10) == "<a@b>|10"
    without = content_key("", b"Subject: x\r\n\r\n", 10)
    assert without.startswith("#") and without != content_key("", b"Subject: y\r\n\r\n", 10)


ACCOUNT = """
[accounts.home]
kind = "pop3"
email = "me@example.org"
host = "pop.example.org"
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("leave_on_server = false\ndelete_after_days = 3", "delete_after_days: with leave_on"),
        (
            "leave_on_server = false\ndelete_when_deleted_here = true",
            "delete_when_deleted_here: with leave_on_server = false",
        ),
        ('apop = true\nauth = "oauth2"', "apop: APOP logs in with a password"),
    ],
)
def test_contradictory_options_are_refused(extra: str, message: str) -> None:
    config = parse(ACCOUNT + extra)
    with pytest.raises(ConfigError, match=message):
        kind("pop3").validate(config.accounts[0], "[accounts.home]")


def test_pop3_options_on_another_kind_are_refused() -> None:
    with pytest.raises(ConfigError, match="max_message_kb: only POP3 accounts have it"):
        parse(ACCOUNT.replace('"pop3"', '"imap"') + "max_message_kb = 100")


def test_the_options_reach_the_account() -> None:
    (acc,) = parse(
        ACCOUNT + "delete_after_days = 7\ndelete_when_deleted_here = true\nmax_message_kb = 512"
    ).accounts
    assert Keeping.of(acc) == Keeping(True, 7, True, 512 * 1024)

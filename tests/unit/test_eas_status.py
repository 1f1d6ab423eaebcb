"""ActiveSync's common status codes (mailtui/protocols/eas/status.py) in plain words and
the error each makes for the sync worker."""

from __future__ import annotations

import pytest

from mailtui.errors import AuthError, ConfigError, OpRejected, SyncError, TransientError
from mailtui.protocols.eas import status
from mailtui.protocols.eas.status import Kind, ProvisionRequired, describe, status_error


def test_every_common_code_from_101_to_177_is_known_but_157_to_159() -> None:
    assert sorted(status.COMMON) == [c for c in range(101, 178) if c not in (157, 158, 159)]
    names = [name for name, _, _ in status.COMMON.values()]
    assert len(set(names)) == len(names)
    for _, _, words in status.COMMON.values():
        assert words and words == words.strip() and not words.endswith(".")


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        (111, TransientError, "the server failed for now and asks to try later (status 111)"),
        ("114", TransientError, "the mailbox server is offline (status 114)"),
        (142, ProvisionRequired, "the server wants the device provisioned (status 142)"),
        (144, ProvisionRequired, "policy changed"),
        (140, ProvisionRequired, "remote wipe"),
        (126, AuthError, "ActiveSync is turned off for this user"),
        (177, AuthError, "limit of devices"),
        (139, ConfigError, "policies this client cannot meet"),
        (138, ConfigError, "protocol version"),
        (113, OpRejected, "the mailbox is full"),
        (150, OpRejected, "no longer on the server"),
    ],
)
def test_codes_in_words_and_errors(code: int | str, error: type[Exception], words: str) -> None:
    made = status_error(code, "Sync")
    assert type(made) is error
    assert str(made).startswith("Sync: ") and words in str(made)
    assert describe(code).endswith(f"(status {code})")


def test_a_commands_own_code_or_an_unknown_one() -> None:
    assert describe(3) == "status 3"
    assert describe("999") == "status 999"
    assert describe("x1") == "status x1"
    assert status.kind(3) is None and status.kind("") is None
    made = status_error(8, "MoveItems")
    assert type(made) is OpRejected and str(made) == "MoveItems: status 8"


def test_provision_required_is_a_sync_error_and_kinds_cover_all_errors() -> None:
    assert issubclass(ProvisionRequired, SyncError)
    assert {kind for _, kind, _ in status.COMMON.values()} == set(Kind)

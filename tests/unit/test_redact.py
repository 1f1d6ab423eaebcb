"""secrets.redact, the debug log's filter: login arguments, OAuth fields and every
secret the process handed out are blanked; ordinary text stays."""

from __future__ import annotations

import logging

import pytest

from mailtui import secrets


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("h C: m1 AUTHENTICATE PLAIN AGFsaWNl", "h C: m1 AUTHENTICATE PLAIN <redacted>"),
        ("h C: m1 AUTHENTICATE PLAIN <authentication data>",
         "h C: m1 AUTHENTICATE PLAIN <authentication data>"),
        ('h C: m2 LOGIN alice "pw"', "h C: m2 LOGIN <redacted>"),
        ("C: AUTH XOAUTH2 dXNlcj1h", "C: AUTH XOAUTH2 <redacted>"),
        ("C: PASS hunter2", "C: PASS <redacted>"),
        ("work: login refused: Authentication failed",
         "work: login refused: Authentication failed"),
        ("grant_type=refresh_token&refresh_token=rt-1&client_id=c",
         "grant_type=refresh_token&refresh_token=<redacted>&client_id=c"),
        ('{"access_token": "ya29.x", "expires_in": 3}',
         '{"access_token": "<redacted>", "expires_in": 3}'),
        ("Authorization: Bearer abc.def", "Authorization: Bearer <redacted>"),
        ("GET /?code=ac-1&state=s", "GET /?code=<redacted>&state=s"),
        ("m3 UID FETCH 1:* (FLAGS)", "m3 UID FETCH 1:* (FLAGS)"),
        ("token_command failed with exit code 2", "token_command failed with exit code 2"),
    ],
)
def test_what_is_blanked(line: str, shown: str) -> None:
    assert secrets.redact(line) == shown


async def test_secrets_handed_out_are_blanked_anywhere() -> None:
    password = await secrets.from_command("printf 'Tr0ub4dor&3'")
    assert secrets.redact(f"x {password} y") == "x <secret> y"
    assert secrets.redact("a b") == "a b"  # short words are never taken for secrets


def test_a_secret_that_is_part_of_the_mark_is_blanked_once() -> None:
    """A password such as "secret" (the wizard's tests type it) was blanked again inside
    the "<secret>" that had replaced it."""
    secrets.handed_out("secret")
    secrets.handed_out("an0ther-passw0rd")
    assert secrets.redact("x an0ther-passw0rd y secret") == "x <secret> y <secret>"
    assert secrets.redact(secrets.redact("x secret y")) == "x <secret> y"  # twice is once


def test_the_filter_rewrites_records() -> None:
    record = logging.LogRecord("t", logging.DEBUG, __file__, 1, "C: %s", ("PASS pw",), None)
    assert secrets.Redactor().filter(record)
    assert record.getMessage() == "C: PASS <redacted>"

"""The POP3 lines of ``--debug-log`` (``wire.traced``): login arguments are never
written (USER, PASS, APOP, AUTH's initial response); other commands are, one line each,
also when pipelined several to a write; a server's line is cleaned of control characters.
The exchange of a real sync is searched in tests/integration/test_debug_log.py."""

from __future__ import annotations

from mailtui.protocols.pop3.wire import traced


def test_login_lines_are_blanked() -> None:
    assert traced("C", b"USER alice\r\n") == ["USER <authentication data>"]
    assert traced("C", b"PASS hunter2 with spaces\r\n") == ["PASS <authentication data>"]
    assert traced("C", b"APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n") == [
        "APOP <authentication data>"
    ]
    assert traced("C", b"AUTH PLAIN AGFsaWNlAGh1bnRlcjI=\r\n") == [
        "AUTH PLAIN <authentication data>"
    ]
    assert traced("C", b"AUTH XOAUTH2\r\n") == ["AUTH XOAUTH2"]  # nothing to hide yet
    assert traced("C", b"auth plain AGFsaWNl\r\n") == ["auth plain <authentication data>"]


def test_other_commands_and_server_lines_are_shown() -> None:
    assert traced("C", b"RETR 1\r\nRETR 2\r\nDELE 1\r\n") == ["RETR 1", "RETR 2", "DELE 1"]
    assert traced("S", b"+OK 2 messages\r\n") == ["+OK 2 messages"]
    assert traced("S", b"-ERR \x1b[31mno\r\n") == ["-ERR ?[31mno"]

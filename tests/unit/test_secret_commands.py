"""password_command / token_command / [smtp] password_command: run without a shell (a
list as given, a string split like a shell), through ``sh -c`` only when written with
shell syntax (with a notice in the log), with a timeout that stops the command and what
it started, and failures that name the exit status and show the first lines of standard
error, never a secret. Real commands: small scripts in tmp_path."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from mailtui import secrets
from mailtui.config import parse
from mailtui.errors import ConfigError
from mailtui.protocols.net.credentials import credentials
from mailtui.secrets import command
from mailtui.secrets.command import shell_syntax


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


async def test_a_list_is_run_as_given_without_a_shell(tmp_path: Path) -> None:
    show = script(tmp_path, "show", 'printf "%s|" "$@"; echo\n')
    line = await secrets.from_command([show, "a b", "$HOME", "x;y", "*"])
    assert line == "a b|$HOME|x;y|*|"


async def test_a_string_without_shell_syntax_is_split_and_run_directly(tmp_path: Path) -> None:
    # The script's parent is mailtui itself: no shell in between.
    parent = script(tmp_path, "parent", 'echo "$PPID $1"\n')
    assert await secrets.from_command(f"{parent} 'two words'") == f"{os.getpid()} two words"
    assert await secrets.password("w", f'{parent} "a;b"') == f"{os.getpid()} a;b"


async def test_shell_syntax_runs_through_sh_with_a_notice_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "mailtui.secrets.command")
    cmd = f"printf 'pw-{tmp_path.name}\\n' | tr a-z A-Z"
    assert await secrets.from_command(cmd) == f"PW-{tmp_path.name}".upper()
    assert await secrets.from_command(cmd) == f"PW-{tmp_path.name}".upper()
    notes = [r.getMessage() for r in caplog.records if "shell syntax" in r.getMessage()]
    assert len(notes) == 1
    assert 'password_command uses shell syntax and runs through sh -c' in notes[0]
    assert '["sh", "-c", "…"]' in notes[0]
    assert "pw-" not in notes[0]  # the command itself is not logged (it may hold secrets)


@pytest.mark.parametrize(
    ("text", "shell"),
    [
        ("pass show mail/work", False),
        ("printf '%s\\n' 'Tr0ub4dor&3'", False),  # quoted: no shell needed
        ('oama access "a;b@c"', False),
        ("a\\|b", False),
        ("gpg -dq x.gpg | head -1", True),
        ("pass show w; true", True),
        ("cat < f", True),
        ("echo $HOME", True),
        ('echo "$HOME"', True),  # expanded between double quotes too
        ("echo '$HOME'", False),  # not between single quotes
        ("echo `id`", True),
        ("cat *.txt", True),
        ("~/bin/pw", True),
        ("cmd # comment", True),
        ("a && b", True),
        ("(a)", True),
        ("GNUPGHOME=/x gpg -dq f", True),
        ("exit 3", True),
        ("gpg --passphrase-fd=0 f", False),
    ],
)
def test_what_counts_as_shell_syntax(text: str, shell: bool) -> None:
    assert shell_syntax(text) is shell


async def test_a_timeout_stops_the_command_and_what_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command, "COMMAND_TIMEOUT", 0.5)
    pid_file = tmp_path / "child.pid"
    slow = script(tmp_path, "slow", f"sleep 300 &\necho $! > {pid_file}\nwait\n")
    with pytest.raises(secrets.SecretError) as caught:
        await secrets.from_command([slow], "token_command")
    assert "token_command did not finish within 0 s and was stopped" in str(caught.value)
    assert "passphrase prompt" in str(caught.value)
    child = int(pid_file.read_text())
    for _ in range(200):  # the kill is asynchronous: wait until the child is gone
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the command's own child outlived the timeout")


async def test_a_failure_names_the_exit_status_and_shows_stderr(tmp_path: Path) -> None:
    failing = script(
        tmp_path,
        "gpgish",
        "echo 'gpg: decryption failed: No secret key' >&2\n"
        "echo 'second line' >&2\necho 'third' >&2\necho 'fourth' >&2\nexit 2\n",
    )
    with pytest.raises(secrets.SecretError) as caught:
        await secrets.password("w", failing)
    text = str(caught.value)
    assert text.startswith("password_command failed with exit code 2: ")
    assert "gpg: decryption failed: No secret key / second line / third" in text
    assert "fourth" not in text  # the first lines only


async def test_stderr_never_shows_a_secret(tmp_path: Path) -> None:
    secret = f"s3cret-{tmp_path.name}"
    known = f"kn0wn-{tmp_path.name}"
    secrets.remember_for_this_run("other", known)  # handed out in this run
    leaky = script(
        tmp_path,
        "leaky",
        f"echo {secret}\necho 'the password {secret} was refused' >&2\n"
        f"echo 'also {known}' >&2\nexit 1\n",
    )
    with pytest.raises(secrets.SecretError) as caught:
        await secrets.from_command([leaky])
    text = str(caught.value)
    assert secret not in text and known not in text
    assert "the password <secret> was refused" in text


async def test_signals_missing_programs_empty_output_and_bad_quotes(tmp_path: Path) -> None:
    killed = script(tmp_path, "killed", "kill -9 $$\n")
    with pytest.raises(secrets.SecretError, match="password_command was killed by SIGKILL"):
        await secrets.from_command(killed)
    with pytest.raises(
        secrets.SecretError,
        match="password_command could not run '/nonexistent/pw': No such file or directory",
    ):
        await secrets.from_command(["/nonexistent/pw", "x"])
    silent = script(tmp_path, "silent", "echo 'no entry for work' >&2\n")
    with pytest.raises(
        secrets.SecretError, match="password_command printed nothing: no entry for work"
    ):
        await secrets.from_command(silent)
    with pytest.raises(secrets.SecretError, match="password_command: No closing quotation"):
        await secrets.from_command("pass show 'mail/work")


CONFIG = """
[accounts.w]
kind = "imap"
email = "me@example.com"
host = "imap.example.com"
{extra}
[accounts.w.smtp]
host = "smtp.example.com"
{smtp}
"""


def test_the_config_takes_a_list_of_words() -> None:
    cfg = parse(
        CONFIG.format(
            extra='password_command = ["pass", "show", "mail/work"]',
            smtp='password_command = ["pass", "show", "smtp/work"]',
        )
    )
    acc = cfg.account("w")
    assert acc.password_command == ("pass", "show", "mail/work")
    assert acc.smtp is not None and acc.smtp.password_command == ("pass", "show", "smtp/work")
    oauth = parse(
        CONFIG.format(extra='auth = "oauth2"\ntoken_command = ["oama", "access", "me"]', smtp="")
    )
    assert oauth.account("w").token_command == ("oama", "access", "me")


@pytest.mark.parametrize("value", ["[]", '["pass", ""]', '["pass", 3]', '""', "7"])
def test_a_command_that_is_no_command_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"\[accounts.w\] password_command: expected a command"):
        parse(CONFIG.format(extra=f"password_command = {value}", smtp=""))


async def test_smtp_password_command_errors_name_it(tmp_path: Path) -> None:
    cfg = parse(
        CONFIG.format(
            extra='password_command = ["true"]',
            smtp=f'password_command = ["{script(tmp_path, "nope", "echo locked >&2; exit 3")}"]',
        )
    )
    acc = cfg.account("w")
    with pytest.raises(
        secrets.SecretError, match="smtp.password_command failed with exit code 3: locked"
    ):
        await credentials(acc, smtp=True)
    # Inherited from the account: named as the account's.
    inherited = parse(CONFIG.format(extra='password_command = ["false"]', smtp="")).account("w")
    with pytest.raises(secrets.SecretError, match="^password_command failed with exit code 1"):
        await credentials(inherited, smtp=True)

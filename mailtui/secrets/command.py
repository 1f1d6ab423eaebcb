"""Running ``password_command`` and ``token_command``: the first line the command prints.

How a command is run depends on how it is written in config.toml:

    password_command = ["pass", "show", "mail/work"]    the words as given, no shell
    password_command = "pass show mail/work"            split like a shell (shlex), no shell
    password_command = "gpg -dq ~/pw.gpg | head -1"     shell syntax: ``sh -c``, with a
                                                         notice in the log (once per run)

Shell syntax is anything a shell would act on outside single quotes: ``| & ; < > ( )``,
``$`` and backquotes (also inside double quotes), ``* ? [`` (globs), a leading ``~``, a
``#`` comment, a line break; also a ``NAME=value`` before the program and a first word
only a shell knows (``exit``, ``cd``, ``export``, …). Such a string kept working when
commands stopped going through the shell, since that is what its author meant; the log
says how to write it without one (``["sh", "-c", "…"]`` keeps the shell on purpose,
without the notice).

The command gets no input (stdin is /dev/null) and ``COMMAND_TIMEOUT`` seconds; it runs
in a process group of its own, so a timeout kills what it started too. A failure names
the exit status (or the signal) and shows the first lines of its standard error, with
any secret this process knows blanked; its output is never shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shlex
import signal
from collections.abc import Sequence

from mailtui.secrets.errors import SecretError
from mailtui.secrets.redact import handed_out, redact

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 30.0  # seconds
STDERR_LINES = 3  # lines of standard error shown in an error, at most
_LINE_CHARS = 200

#: Commands already named in the log for their shell syntax (once per run each).
_noted: set[str] = set()


def shell_syntax(command: str) -> bool:
    """Whether a shell would do more with ``command`` than split it into words."""
    quote = ""  # the open quote, if any
    escaped = False
    at_word_start = True
    for ch in command:
        if escaped:
            escaped, at_word_start = False, False
            continue
        if quote == "'":
            if ch == "'":
                quote = ""
            continue
        if ch in "$`":  # expansions, also between double quotes
            return True
        if ch == "\\":
            escaped = True
            continue
        if quote == '"':
            if ch == '"':
                quote = ""
            continue
        if ch in "'\"":
            quote, at_word_start = ch, False
            continue
        if ch in "|&;<>()*?[\n" or (at_word_start and ch in "~#"):
            return True
        at_word_start = ch in " \t"
    try:
        first = shlex.split(command)[:1]
    except ValueError:
        return False  # an unclosed quote: reported when it is run
    # NAME=value before the program, or a word only a shell knows ("exit 3", "cd x").
    return bool(first) and (_ASSIGNMENT.match(first[0]) is not None or first[0] in _BUILTINS)


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_BUILTINS = frozenset({
    ".", "alias", "case", "cd", "eval", "exec", "exit", "export", "for", "if", "read",
    "set", "source", "umask", "unset", "until", "while",
})  # fmt: skip


def argv(command: str | Sequence[str], key: str) -> list[str]:
    """The program and its arguments for ``command`` (module docstring)."""
    if not isinstance(command, str):
        words = list(command)
        if not words or not all(isinstance(w, str) and w for w in words):
            raise SecretError(f"{key}: a list of words, none of them empty, was expected")
        return words
    if shell_syntax(command):
        if command not in _noted:
            _noted.add(command)
            log.warning(
                "%s uses shell syntax and runs through sh -c; to run it without a shell, "
                'write it as a list of words (["pass", "show", "mail/work"]), or as '
                '["sh", "-c", "…"] to keep the shell on purpose',
                key,
            )
        return ["sh", "-c", command]
    try:
        words = shlex.split(command)
    except ValueError as exc:  # an unclosed quote
        raise SecretError(f"{key}: {exc}") from None
    if not words:
        raise SecretError(f"{key} is empty")
    return words


async def first_line(command: str | Sequence[str], key: str) -> str:
    """The first line ``command`` prints; ``key`` names the setting in errors."""
    words = argv(command, key)
    try:
        proc = await asyncio.create_subprocess_exec(
            *words,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout kills it all
        )
    except OSError as exc:
        why = exc.strerror or exc.__class__.__name__
        raise SecretError(f"{key} could not run {words[0]!r}: {why}") from None
    try:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
        # that arrives with the result (a stopping worker would then go on).
        async with asyncio.timeout(COMMAND_TIMEOUT):
            out, err = await proc.communicate()
    except TimeoutError:
        _kill(proc)
        raise SecretError(
            f"{key} did not finish within {COMMAND_TIMEOUT:.0f} s and was stopped "
            "(does it wait for input, such as a passphrase prompt?)"
        ) from None
    except asyncio.CancelledError:
        _kill(proc)
        raise
    lines = out.decode("utf-8", "replace").splitlines()
    if proc.returncode != 0:
        printed = lines[0] if lines else ""
        raise SecretError(f"{key} {_ended(proc.returncode)}{_stderr(err, printed)}")
    if not lines or not lines[0]:
        raise SecretError(f"{key} printed nothing{_stderr(err, '')}")
    return handed_out(lines[0])


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"failed with exit code {code}"


def _stderr(err: bytes, printed: str) -> str:
    """The first lines of standard error, for the error text: blanked of secrets (those
    handed out in this run, and what the command printed on its standard output)."""
    shown = []
    for line in err.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        if printed and len(printed) >= 4:
            line = line.replace(printed, "<secret>")
        shown.append(redact(line)[:_LINE_CHARS])
        if len(shown) == STDERR_LINES:
            break
    return (": " + " / ".join(shown)) if shown else " (nothing on its standard error)"

"""Writing ``config.toml``: add, change and remove an account, keeping the rest of the
file as the user wrote it (comments, order, spacing; tomlkit round-trips it).

Every edit is checked before the file is touched: the new text must pass the reader
(``mailtui.config.reader.parse``) and the caller's ``check`` (``mailtui.accounts`` passes
the account kinds' own checks), else ConfigError and the file stays as it was. A secret
is never written: ``password`` and the other secret keys are refused as the reader
refuses them. The file is replaced atomically (a temporary file in the same directory,
fsync, rename), keeping its permissions; a new file is created 0600 in a new 0700
directory. A config file that is a symbolic link (dotfiles) is written where it points.

Values are given by option name (``mailtui.sync.contract.Option``): ``smtp.host`` is
``host`` in the account's ``[accounts.<name>.smtp]`` table.

A comment block directly above a table header belongs to that header: when an account
is added before it or removed from above it, the block stays above the header.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from mailtui.config.reader import _SECRET_KEYS, Config, _Table, parse
from mailtui.errors import ConfigError

__all__ = ["Check", "Value", "add_account", "change_account", "remove_account"]

Value = str | int | bool | Path | Sequence[str]
#: More checks of the edited config (the account kinds'); raises ConfigError.
Check = Callable[[Config], object]


def add_account(
    path: Path,
    name: str,
    kind: str,
    values: Mapping[str, Value | None],
    *,
    check: Check | None = None,
) -> Config:
    """Adds account ``name`` of ``kind`` with ``values`` (None values are left out),
    after the other accounts. Returns the new config. Raises ConfigError: the account
    exists, a secret, or the result does not pass the reader or ``check``."""
    where = f"{path}: [accounts.{name}]"
    _refuse_secrets(where, values)

    def edit(doc: TOMLDocument) -> None:
        accounts = doc.get("accounts")
        if accounts is None:
            doc.add("accounts", tomlkit.table(is_super_table=True))
            accounts = doc["accounts"]
        elif name in accounts:
            raise ConfigError(f"{where}: an account of that name exists already")
        table = tomlkit.table()
        table.add("kind", kind)
        _set_all(table, values, doc)
        # Whatever follows the accounts keeps the comment block above its header.
        last = _last_body(accounts) if _tables_of(accounts) else None
        block = _detach_header_block(last) if last is not None else []
        after = _next_table(doc, accounts)
        accounts.add(name, table)
        if after is not None:
            _last_body(table).add(tomlkit.nl())  # a blank line before the next header
        _place_block(block, after, _last_body(table))

    return _edit(path, edit, check)


def change_account(
    path: Path,
    name: str,
    values: Mapping[str, Value | None],
    *,
    check: Check | None = None,
) -> Config:
    """Sets ``values`` in account ``name``; a None value removes the key (the reader's
    default applies again). An ``smtp`` table left empty is removed. Returns the new
    config. Raises ConfigError as ``add_account`` does, or for an unknown account."""
    where = f"{path}: [accounts.{name}]"
    _refuse_secrets(where, values)

    def edit(doc: TOMLDocument) -> None:
        _set_all(_account(doc, path, name), values, doc)

    return _edit(path, edit, check)


def remove_account(path: Path, name: str, *, check: Check | None = None) -> Config:
    """Removes account ``name`` and its tables. Returns the new config. Raises
    ConfigError for an unknown account (the file is left as it was)."""

    def edit(doc: TOMLDocument) -> None:
        _account(doc, path, name)
        _delete_table(doc, doc["accounts"], name)
        if len(doc["accounts"]) == 0:
            del doc["accounts"]

    return _edit(path, edit, check)


# ------------------------------------------------------------------ reading and writing


def _edit(path: Path, edit: Callable[[TOMLDocument], None], check: Check | None) -> Config:
    target = path.resolve() if path.is_symlink() else path
    try:
        text = target.read_bytes().decode("utf-8")
    except FileNotFoundError:
        text = ""
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    edit(doc)
    new_text = doc.as_string()
    config = parse(new_text, path)  # the reader's word before the file is touched
    if check is not None:
        check(config)
    _replace(target, new_text)
    return config


def _replace(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` at once: readers see the old file or the new one."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


# ------------------------------------------------------------------ the document


def _refuse_secrets(where: str, values: Mapping[str, Any]) -> None:
    keys = [name.rpartition(".")[2] for name in values]
    if any(key in _SECRET_KEYS for key in keys):
        # The reader's own refusal, word for word.
        _Table(where, dict.fromkeys(keys), tuple(keys))


def _account(doc: TOMLDocument, path: Path, name: str) -> Table:
    accounts = doc.get("accounts")
    table = accounts.get(name) if isinstance(accounts, Mapping) else None
    if not isinstance(table, Table):
        known = ", ".join(accounts or ()) or "none configured"
        raise ConfigError(f"{path}: no account named {name!r} (accounts: {known})")
    return table


def _set_all(table: Table, values: Mapping[str, Value | None], doc: TOMLDocument) -> None:
    for name, value in values.items():
        section, _, key = name.rpartition(".")
        target = table
        if section:
            sub = table.get(section)
            if sub is None:
                if value is None:
                    continue
                table.add(section, tomlkit.table())
                sub = table[section]
            target = sub
        if value is None:
            if key in target:
                del target[key]
            if section and len(target) == 0:
                _delete_table(doc, table, section)
        elif key in target:
            target[key] = _toml(value)
        else:
            _add_key(target, key, _toml(value))


def _delete_table(doc: TOMLDocument, parent: Table, key: str) -> None:
    """Deletes table ``parent[key]``; the comment block above the header that follows
    it stays above that header."""
    table = parent[key]
    block = _detach_header_block(_last_body(table))
    after = _next_table(doc, table)
    del parent[key]
    _place_block(block, after, doc)


def _toml(value: Value) -> str | int | bool | list[str]:
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, Path):
        return str(value)
    return [str(v) for v in value]


def _add_key(table: Table, key: str, value: Any) -> None:
    """A new key after the table's last one, not after the comments that end it."""
    body = table.value.body
    trailing: list[Comment | Whitespace] = []
    if not _tables_of(table):
        while body and body[-1][0] is None:
            item = body[-1][1]
            if not isinstance(item, Comment | Whitespace):
                break
            trailing.insert(0, item)
            body.pop()
    table.add(key, value)
    for item in trailing:
        table.add(item)


def _tables_of(table: Table | Container) -> list[Table]:
    """The tables under ``table`` in the order they are written, header after header."""
    container = table if isinstance(table, Container) else table.value
    out: list[Table] = []
    for _, item in container.body:
        if isinstance(item, Table):
            if not item.is_super_table():
                out.append(item)
            out += _tables_of(item)
        elif isinstance(item, AoT):
            for element in item.body:
                out.append(element)
                out += _tables_of(element)
    return out


def _last_body(table: Table) -> Container:
    """The body written last under ``table``'s header (its last sub-table's, if any)."""
    tables = _tables_of(table)
    return (tables[-1] if tables else table).value


def _next_table(doc: TOMLDocument, table: Table) -> Table | None:
    """The first table written after ``table`` and everything under it."""
    order = _tables_of(doc)
    inside = {id(t) for t in _tables_of(table)} | {id(table)}
    seen = False
    for t in order:
        if id(t) in inside:
            seen = True
        elif seen:
            return t
    return None


def _detach_header_block(body: Container) -> list[Comment]:
    """Takes the comment lines that end ``body`` after a blank line: they sit directly
    above the next header, and belong to it. Comments right under the last key stay."""
    items = body.body
    start = len(items)
    while start and items[start - 1][0] is None and isinstance(items[start - 1][1], Comment):
        start -= 1
    if start == len(items) or start == 0:
        return []
    before = items[start - 1]
    if not (before[0] is None and isinstance(before[1], Whitespace) and "\n" in before[1].s):
        return []
    block = [item for _, item in items[start:] if isinstance(item, Comment)]
    del items[start:]
    return block


def _place_block(block: list[Comment], header: Table | None, fallback: Container | Table) -> None:
    """Puts a detached comment block back above ``header``; with no header after it, at
    the end of ``fallback`` (the end of the file)."""
    if not block:
        return
    if header is not None:
        header.trivia.indent = "".join(i.as_string() for i in block) + header.trivia.indent
        return
    fallback.add(tomlkit.nl())
    for item in block:
        fallback.add(item)

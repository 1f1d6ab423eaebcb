"""The composition root: config + kind registry + store -> the workers that sync accounts.

    load_config / parse_config   the reader's checks, then each account's kind's own
    check_config                 the kinds' checks of a config already read
    add_account / change_account / remove_account
                                 config.toml edited (``mailtui.config.edit``), checked so
    specs                        every configured account (or one) -> WorkerSpecs
    specs_for                    the same for a list of AccountConfigs
    AccountSettings              an account's settings as config.toml has them now
    outbox_sender                one account's OutboxSender, by how its kind sends
    demo_spec                    the demo account, served from the demo directory

Accounts are built through their kind (``mailtui.protocols.kinds``); a kind this version
cannot build yet is refused with a clear message instead of starting half-working.
Backend, SMTP and demo code is imported when an account needs it: ``mailtui sync`` of an
IMAP account loads no demo or SMTP code, and the demo no IMAP code.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtui.config import AccountConfig, Config, load, parse
from mailtui.errors import ConfigError
from mailtui.models import Account, AccountKind
from mailtui.protocols.demo.kind import ACCOUNT as DEMO_ACCOUNT
from mailtui.protocols.kinds import KINDS
from mailtui.store import Store
from mailtui.sync.contract import Backend, KindSpec, Sending, SubmissionFactory, SyncEvent
from mailtui.sync.manager import WorkerSpec
from mailtui.sync.worker import WorkerOptions

if TYPE_CHECKING:
    from mailtui.config.edit import Value
    from mailtui.sync.outbox import OutboxSender

__all__ = [
    "DEMO_ACCOUNT",
    "AccountSettings",
    "add_account",
    "change_account",
    "check_config",
    "demo_spec",
    "load_config",
    "outbox_sender",
    "parse_config",
    "remove_account",
    "specs",
    "specs_for",
]

Kinds = Mapping[str, KindSpec]


def _kind(acc: AccountConfig, kinds: Kinds) -> KindSpec:
    spec = kinds.get(acc.kind.value)
    if spec is None:
        raise ConfigError(f"account {acc.name!r}: unknown account kind {acc.kind.value!r}")
    return spec


def check_config(config: Config, kinds: Kinds = KINDS) -> Config:
    """Runs each account's kind's own checks (``KindSpec.check``) on a config the reader
    accepted; returns it. Raises ConfigError naming the file, the account and the key."""
    prefix = f"{config.path}: " if config.path else ""
    for acc in config.accounts:
        _kind(acc, kinds).validate(acc, f"{prefix}[accounts.{acc.name}]")
    return config


def load_config(path: Path, kinds: Kinds = KINDS) -> Config:
    """``mailtui.config.load`` and the kinds' checks: the config as mailtui runs it."""
    return check_config(load(path), kinds)


def parse_config(text: str, path: Path | None = None, kinds: Kinds = KINDS) -> Config:
    """``mailtui.config.parse`` and the kinds' checks."""
    return check_config(parse(text, path), kinds)


def add_account(
    path: Path, name: str, kind: str, values: Mapping[str, Value | None], kinds: Kinds = KINDS
) -> Config:
    """Adds an account to the config file at ``path`` (see ``mailtui.config.edit``);
    the result must pass the reader and the kinds' checks. Raises ConfigError."""
    from mailtui.config import edit

    return edit.add_account(path, name, kind, values, check=lambda c: check_config(c, kinds))


def change_account(
    path: Path, name: str, values: Mapping[str, Value | None], kinds: Kinds = KINDS
) -> Config:
    """Changes an account in the config file (a None value removes the key)."""
    from mailtui.config import edit

    return edit.change_account(path, name, values, check=lambda c: check_config(c, kinds))


def remove_account(path: Path, name: str, kinds: Kinds = KINDS) -> Config:
    """Removes an account from the config file."""
    from mailtui.config import edit

    return edit.remove_account(path, name, check=lambda c: check_config(c, kinds))


class AccountSettings:
    """An account's settings as ``path`` (config.toml) has them now, and its backends
    built from them: each backend (a new one for every connection attempt of the
    worker) is built from the file as it is then, so a changed host, user name, port,
    TLS setting or ``password_command`` is used at the next attempt without a restart.
    The password itself is read again by each new backend (keyring or command).

    The worker's other options (``poll_interval``, ``body_days``) and the SMTP settings
    stay as they were at start."""

    def __init__(self, acc: AccountConfig, path: Path | None, kinds: Kinds = KINDS) -> None:
        self._acc = acc
        self._path = path
        self._kinds = kinds
        self._stamp = _stamp(path)
        self._built = acc  # the settings the last backend was built from
        self._bad_stamp: tuple[int, int] | None = None  # a file already found broken

    def current(self) -> AccountConfig:
        """The account's settings, read again when the file changed. Raises ConfigError
        (the file's problem, or the account being gone from it)."""
        stamp = _stamp(self._path)
        if self._path is None or stamp == self._stamp:
            return self._acc
        config = load_config(self._path, self._kinds)
        try:
            acc = config.account(self._acc.name)
        except ConfigError:
            raise ConfigError(
                f"{self._path}: account {self._acc.name!r} is no longer in the config"
            ) from None
        if acc.kind != self._acc.kind:
            raise ConfigError(
                f"{self._path}: account {acc.name!r} changed its kind; restart mailtui"
            )
        self._acc, self._stamp = acc, stamp
        return acc

    def build(self) -> Backend:
        acc = self.current()
        spec = _kind(acc, self._kinds)
        assert spec.build is not None  # checked by specs_for
        self._built = acc
        return spec.build(acc)

    def changed(self) -> bool:
        """Whether the account's settings differ from those of the last backend; a file
        that became unreadable counts once (the next attempt says what is wrong)."""
        try:
            return self.current() != self._built
        except ConfigError:
            stamp = _stamp(self._path)
            if stamp == self._bad_stamp:
                return False
            self._bad_stamp = stamp
            return True


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """What tells a changed file: modification time and size (None: no file)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


async def specs(store: Store, config: Config, only: str | None = None) -> list[WorkerSpec]:
    """A WorkerSpec for every account of ``config``, or for account ``only``."""
    accounts = [config.account(only)] if only else list(config.accounts)
    return await specs_for(store, accounts, path=config.path)


async def specs_for(
    store: Store,
    accounts: Sequence[AccountConfig],
    kinds: Kinds = KINDS,
    *,
    path: Path | None = None,
) -> list[WorkerSpec]:
    """The accounts in ``store`` (added when new), each with its backend factory, its
    options and its outbox sender. Raises ConfigError for a kind this version cannot
    build, before any account is touched. With ``path`` (the config file the accounts
    come from), backends are built from the file as it is at each connection attempt
    (``AccountSettings``)."""
    for acc in accounts:
        if _kind(acc, kinds).build is None:
            raise ConfigError(
                f"account {acc.name!r}: {acc.kind.value} accounts are not supported by this "
                "version of mailtui yet (try `mailtui --demo`)"
            )
    out: list[WorkerSpec] = []
    for acc in accounts:
        spec = _kind(acc, kinds)
        assert spec.build is not None  # checked above
        account = await store.ensure_account(acc.name, acc.kind, acc.email)
        options = WorkerOptions(poll_interval=acc.poll_interval, body_days=acc.body_days)
        settings = AccountSettings(acc, path, kinds)
        out.append(
            WorkerSpec(
                account=account,
                factory=settings.build,
                changed=settings.changed,
                options=options,
                sender=(
                    functools.partial(_sender, store, account, acc, kinds)
                    if _sends(acc, spec)
                    else None
                ),
            )
        )
    return out


def _sends(acc: AccountConfig, spec: KindSpec) -> bool:
    if spec.sending is Sending.SMTP:
        return acc.smtp is not None
    return spec.sending is Sending.BACKEND and spec.submission is not None


class _StoredState:
    """An account's sync state in the store, as a backend's submission sees it."""

    def __init__(self, store: Store, account_id: int) -> None:
        self.store = store
        self.account_id = account_id

    async def load(self) -> Mapping[str, Any]:
        return await self.store.account_state(self.account_id)

    async def setdefault(self, key: str, value: Any) -> Any:
        return await self.store.account_state_setdefault(self.account_id, key, value)

    async def update(self, values: Mapping[str, Any]) -> None:
        await self.store.account_state_update(self.account_id, values)


def _submission(
    store: Store, account: Account, acc: AccountConfig, spec: KindSpec
) -> SubmissionFactory | None:
    """How the account hands mail to its server; None when it sends none."""
    if not _sends(acc, spec):
        return None
    if spec.sending is Sending.BACKEND and spec.submission is not None:
        return spec.submission(acc, _StoredState(store, account.id))
    # Imported here: SMTP (aiosmtplib, email) is start-up time a sync does not need.
    from mailtui.sync.outbox import submission

    return submission(acc)


def _unfiled_notice(spec: KindSpec) -> str:
    """Where the copy of a sent message is when mailtui files none."""
    if spec.local:  # its Sent folder is the store's: no server files anything for it
        return "Sent · no copy kept (copy_to_sent = false)"
    if spec.files_sent or spec.sending is Sending.BACKEND:
        return "Sent · the server keeps the copy"  # copy_to_sent = false; EAS
    return "Sent · no copy kept (this account has no Sent folder)"


def outbox_sender(
    store: Store,
    account: Account,
    acc: AccountConfig,
    emit: Callable[[SyncEvent], None] | None = None,
    on_sent: Callable[[], None] | None = None,
    *,
    kinds: Kinds = KINDS,
) -> OutboxSender | None:
    """The account's outbox sender: SMTP for an account with an ``smtp`` table, the
    backend itself for a kind that sends so; None when the account sends no mail."""
    spec = _kind(acc, kinds)
    submission = _submission(store, account, acc, spec)
    if submission is None:
        return None
    from mailtui.sync.outbox import OutboxSender, files_sent_copy

    return OutboxSender(
        store,
        account,
        submission,
        file_sent=files_sent_copy(acc, spec),
        unfiled_notice=_unfiled_notice(spec),
        local_folders=spec.local,
        emit=emit,
        on_sent=on_sent,
    )


def _sender(
    store: Store,
    account: Account,
    acc: AccountConfig,
    kinds: Kinds,
    emit: Callable[[SyncEvent], None],
    on_sent: Callable[[], None],
) -> OutboxSender:
    sender = outbox_sender(store, account, acc, emit, on_sent, kinds=kinds)
    assert sender is not None  # WorkerSpec.sender is set only for accounts that send
    return sender


async def demo_spec(
    store: Store, directory: Path, *, count: int = 3000, arrival_interval: float = 90.0
) -> WorkerSpec:
    """The demo account in ``store``, served from ``directory/server.sqlite``."""
    from mailtui.protocols.demo.backend import DemoBackend, DemoServer
    from mailtui.protocols.demo.generate import ME

    account = await store.ensure_account(DEMO_ACCOUNT, AccountKind.DEMO, ME[1])
    lock = threading.Lock()
    servers: list[DemoServer] = []

    def server() -> DemoServer:
        with lock:  # one server object, shared by every reconnect of the worker
            if not servers:
                servers.append(DemoServer(directory / "server.sqlite", count=count))
            return servers[0]

    return WorkerSpec(
        account=account,
        factory=lambda: DemoBackend(server, arrival_interval=arrival_interval),
        options=WorkerOptions(poll_interval=300.0, body_days=30),
    )

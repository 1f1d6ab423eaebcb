"""The backend contract suite: every test runs against every backend that can do what it
needs, through the `Backend` protocol only (mailtui/sync/contract.py).

    kind     (parameter)  one entry of KINDS: a backend and what it can do
    server   function     a `ContractServer`: the backend's server with one empty
                          account, and "another client" that changes it from outside
    backend  function     `server.backend()`, connected; closed after the test

Adding a backend (Exchange) is adding one `Kind` to KINDS: a `ContractServer` for it
(contract_servers.py: `DemoContractServer`, `ImapContractServer`, `Pop3ContractServer`)
and its features. A test marked `@pytest.mark.needs("feature")` runs only for the kinds that
have the feature, so no test is ever skipped:

    login           the server checks a password: a wrong one gives AuthError
    hears_others    wait_for_changes returns when another client changes the server
                    (IMAP IDLE, EAS Ping); without it a change is found by the next
                    pull after wait_for_changes timed out (poll)
    op:<kind>       apply() supports this OpKind (taken from the Capabilities, see
                    `supported_ops`, unless the kind lists its ops)
    newest_first    a first pull comes newest first (IMAP, demo; an ActiveSync server
                    sends in its own order: SOGo oldest first)
    verbatim        bodies are the bytes delivered (not so from SOGo's ActiveSync,
                    which renders its own MIME)
    local           Capabilities.local: folders beyond INBOX, flags and every op live
                    in the store; the backend refuses every op
    window          a first pull tells its listing and the backend fetches a window of
                    it between two batches (WindowFetcher: IMAP, POP3)

Kinds that need a real server carry the `integration` mark (`-m "not integration"`
runs the demo only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mailtui.models import OpKind
from mailtui.protocols.demo.backend import DemoBackend
from mailtui.protocols.eas.backend import EasBackend
from mailtui.protocols.imap import ImapBackend
from mailtui.protocols.pop3.backend import capabilities as pop3_capabilities
from mailtui.protocols.pop3.policy import Keeping
from mailtui.sync.contract import Backend
from tests.contract.contract_servers import (
    ContractServer,
    DemoContractServer,
    EasContractServer,
    ImapContractServer,
    Kind,
    Pop3ContractServer,
    next_user,
)
from tests.servers import (
    DovecotNotInstalled,
    DovecotServer,
    PostgresNotInstalled,
    SOGoNotInstalled,
    SOGoServer,
    make_self_signed_cert,
)


async def _start_demo(request: pytest.FixtureRequest) -> ContractServer:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return DemoContractServer(tmp_path)


@pytest.fixture(scope="session")
def contract_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    server = DovecotServer(make_self_signed_cert(tmp_path_factory.mktemp("contract-tls")))
    try:
        server.start()
    except DovecotNotInstalled as exc:
        server.stop()
        pytest.fail(f"{exc}\nThe IMAP contract tests need a real Dovecot; they are not skipped.")
    try:
        yield server
    finally:
        server.stop(graceful=False)  # its mail goes: no clean shutdown (~1 s)


async def _start_imap(request: pytest.FixtureRequest) -> ContractServer:
    dovecot: DovecotServer = request.getfixturevalue("contract_dovecot")
    return ImapContractServer(dovecot, next_user())


async def _start_pop3(request: pytest.FixtureRequest) -> ContractServer:
    dovecot: DovecotServer = request.getfixturevalue("contract_dovecot")
    return Pop3ContractServer(dovecot, next_user())


@pytest.fixture(scope="session")
def contract_sogo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SOGoServer]:
    server = SOGoServer(make_self_signed_cert(tmp_path_factory.mktemp("contract-sogo-tls")))
    try:
        server.start()
    except (SOGoNotInstalled, PostgresNotInstalled, DovecotNotInstalled) as exc:
        server.stop()
        pytest.fail(f"{exc}\nThe Exchange contract tests need a real SOGo; not skipped.")
    try:
        yield server
    finally:
        server.stop()


async def _start_exchange(request: pytest.FixtureRequest) -> ContractServer:
    sogo: SOGoServer = request.getfixturevalue("contract_sogo")
    return await EasContractServer(sogo, next_user()).start()


# ---------------------------------------------------------------------- the kinds

KINDS: tuple[Kind, ...] = (
    Kind(
        "demo",
        DemoBackend.capabilities,
        _start_demo,
        features=frozenset({"newest_first", "verbatim"}),
    ),
    Kind(
        "imap",
        ImapBackend.capabilities,
        _start_imap,
        features=frozenset({"login", "hears_others", "newest_first", "verbatim", "window"}),
        marks=(pytest.mark.integration,),
    ),
    Kind(
        "exchange",
        EasBackend.capabilities,
        _start_exchange,
        features=frozenset({"login", "hears_others"}),
        # One worker runs them (scripts/test.sh: --dist loadgroup): one SOGo stack
        marks=(pytest.mark.integration, pytest.mark.xdist_group("sogo-contract")),
        ops=frozenset({OpKind.SET_FLAGS, OpKind.MOVE, OpKind.DELETE}),
    ),
    # Folders, flags and ops are the store's (Capabilities.local): the server has INBOX.
    Kind(
        "pop3",
        pop3_capabilities(Keeping()),
        _start_pop3,
        features=frozenset({"login", "window"}),
        marks=(pytest.mark.integration,),
    ),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(feature): run only for the backends with this feature"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kind" not in metafunc.fixturenames:
        return
    needs = [mark.args[0] for mark in metafunc.definition.iter_markers("needs")]
    metafunc.parametrize(
        "kind",
        [
            pytest.param(kind, id=kind.name, marks=kind.marks)
            for kind in KINDS
            if all(kind.has(feature) for feature in needs)
        ],
    )


@pytest.fixture
async def server(kind: Kind, request: pytest.FixtureRequest) -> AsyncIterator[ContractServer]:
    started = await kind.start(request)
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def backend(server: ContractServer) -> AsyncIterator[Backend]:
    connected = server.backend()
    await connected.connect()
    try:
        yield connected
    finally:
        await connected.close()

"""Fixtures for integration tests against real servers on 127.0.0.1.

    dovecot            session  DovecotServer: IMAP, IMAPS, POP3, POP3S, LMTP
    smtp_server        session  SMTPServer: STARTTLS submission + SMTPS, delivers via LMTP
    relay_server       session  SMTPServer offering no AUTH (a relay), same delivery
    server_tls         session  TLSFiles: the self-signed certificate both servers present
    mail_user          function a fresh MailUser (own login, password, empty Maildir)
    mail_user_factory  function make more MailUsers in one test: factory(hint=None, password=None)
    oauth_tokens       session  OAuthTokenServer: issue(user) -> access token, revoke(token)
    dns_server, web, https  module  dnsmasq and HTTP(S) servers for discovery (discovery_servers.py)
    oauth_user         function a MailUser on a second Dovecot (+ SMTP server) that also
                                takes XOAUTH2/OAUTHBEARER, tokens checked by oauth_tokens
    sogo               session  SOGoServer: ActiveSync at sogo.url, with its own PostgreSQL,
                                memcached, Dovecot and SMTP server (started on first use, ~1.5 s)
    eas_user           function a fresh EASUser on `sogo` (login, password, fresh DeviceId)
    authz              function AuthorizationServer: device, authorize (loopback), token
                                endpoints handing out oauth_tokens' access tokens
    memory_keyring     function the system keyring replaced by one in memory
    store              function a Store opened on tmp_path/mail.sqlite, closed afterwards

Every test in this directory is marked `integration`. When Dovecot is missing, tests that
use these fixtures FAIL (never skip) and say to run scripts/install-test-deps.sh. A failing
test that used Dovecot gets the Dovecot log lines written during the test in its report.
Set MAILTUI_KEEP_SERVER_DIRS=1 to keep the servers' directories (mail, config, log).
"""

from __future__ import annotations

import itertools
import re
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    # `tests.servers` is imported from the checkout, whatever the rootdir/import mode.
    sys.path.insert(0, str(_REPO))

from mailtui.store import Store  # noqa: E402
from tests.integration.discovery_servers import dns_server, https, web  # noqa: E402, F401
from tests.servers import (  # noqa: E402
    DovecotNotInstalled,
    DovecotServer,
    EASUser,
    MailUser,
    OAuthTokenServer,
    PostgresNotInstalled,
    SMTPServer,
    SOGoNotInstalled,
    SOGoServer,
    TLSFiles,
    make_self_signed_cert,
)
from tests.servers.authorization import AuthorizationServer  # noqa: E402
from tests.unit.keyrings import memory_keyring  # noqa: E402,F401 (a fixture)

_HERE = Path(__file__).resolve().parent
_state: dict[str, object] = {}
_user_numbers = itertools.count(1)
_LOG_OFFSET = pytest.StashKey[int]()
_OAUTH_LOG_OFFSET = pytest.StashKey[int]()
_SOGO_LOG_OFFSET = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)
        if "sogo" in getattr(item, "fixturenames", ()):
            # One SOGo stack per test process: with `--dist loadgroup` (scripts/test.sh)
            # its tests share one worker instead of each worker starting its own stack.
            item.add_marker(pytest.mark.xdist_group("sogo"))


@pytest.fixture(scope="session")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_self_signed_cert(tmp_path_factory.mktemp("server-tls"))


@pytest.fixture(scope="session")
def dovecot(server_tls: TLSFiles) -> Iterator[DovecotServer]:
    server = DovecotServer(server_tls)
    try:
        server.start()
    except DovecotNotInstalled as exc:
        server.stop()
        pytest.fail(f"{exc}\nIntegration tests need a real Dovecot; they are not skipped.")
    _state["dovecot"] = server
    try:
        yield server
    finally:
        _state.pop("dovecot", None)
        server.stop(graceful=False)  # the run's mail goes: no clean shutdown (~1 s)


@pytest.fixture(scope="session")
def smtp_server(dovecot: DovecotServer, server_tls: TLSFiles) -> Iterator[SMTPServer]:
    server = SMTPServer(dovecot, server_tls)
    server.start()
    _state["smtp"] = server
    try:
        yield server
    finally:
        _state.pop("smtp", None)
        server.stop()


@pytest.fixture(scope="session")
def relay_server(dovecot: DovecotServer, server_tls: TLSFiles) -> Iterator[SMTPServer]:
    """An SMTP relay that offers no AUTH at all (STARTTLS still required); it delivers
    to the same Dovecot."""
    server = SMTPServer(dovecot, server_tls, offer_auth=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oauth_tokens() -> Iterator[OAuthTokenServer]:
    tokens = OAuthTokenServer()
    tokens.start()
    try:
        yield tokens
    finally:
        tokens.stop()


@pytest.fixture
def authz(oauth_tokens: OAuthTokenServer) -> Iterator[AuthorizationServer]:
    server = AuthorizationServer(oauth_tokens)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oauth_servers(
    server_tls: TLSFiles, oauth_tokens: OAuthTokenServer
) -> Iterator[tuple[DovecotServer, SMTPServer]]:
    """A second Dovecot whose users may also log in with an OAuth token (Dovecot's
    oauth2 passdb asks `oauth_tokens`), and an SMTP server that takes the same tokens."""
    server = DovecotServer(server_tls, oauth2_introspection_url=oauth_tokens.introspection_url)
    try:
        server.start()
    except DovecotNotInstalled as exc:
        server.stop()
        pytest.fail(f"{exc}\nIntegration tests need a real Dovecot; they are not skipped.")
    smtp = SMTPServer(server, server_tls, oauth=oauth_tokens)
    smtp.start()
    _state["oauth_dovecot"] = server
    try:
        yield server, smtp
    finally:
        _state.pop("oauth_dovecot", None)
        smtp.stop()
        server.stop(graceful=False)


@pytest.fixture
def oauth_user(
    oauth_servers: tuple[DovecotServer, SMTPServer], request: pytest.FixtureRequest
) -> MailUser:
    """A user of the OAuth-enabled servers (its password works too); get a token for it
    with `oauth_tokens.issue(user.name)`."""
    dovecot, smtp = oauth_servers
    name = f"o{next(_user_numbers):03d}_{_slug(request.node.name.removeprefix('test_'))}"
    pw = secrets.token_urlsafe(12)
    dovecot.add_user(name, pw)
    return _user_of(dovecot, smtp, name, pw)


@pytest.fixture(scope="session")
def sogo(server_tls: TLSFiles) -> Iterator[SOGoServer]:
    """SOGo with ActiveSync; only sessions with a test that asks for it pay its start."""
    server = SOGoServer(server_tls)
    try:
        server.start()
    except (SOGoNotInstalled, PostgresNotInstalled, DovecotNotInstalled) as exc:
        server.stop()
        pytest.fail(f"{exc}\nActiveSync tests need a real SOGo; they are not skipped.")
    _state["sogo"] = server
    try:
        yield server
    finally:
        _state.pop("sogo", None)
        server.stop()


@pytest.fixture
def eas_user(sogo: SOGoServer, request: pytest.FixtureRequest) -> EASUser:
    """A new SOGo user with primed, empty folders and a DeviceId of its own."""
    name = f"e{next(_user_numbers):03d}_{_slug(request.node.name.removeprefix('test_'))}"
    pw = secrets.token_hex(8)
    sogo.add_user(name, pw)
    return EASUser(
        name=name,
        password=pw,
        email=sogo.email(name),
        url=sogo.url,
        device_id=f"mt{secrets.token_hex(8)}",
        server=sogo,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


@pytest.fixture(autouse=True)
def _reset_smtp_faults() -> Generator[None, None, None]:
    """Faults injected by one test never leak into the next."""
    yield
    for key in ("smtp", "sogo"):
        server = _state.get(key)
        if isinstance(server, SOGoServer):
            server.smtp.reset()
        elif isinstance(server, SMTPServer):
            server.reset()


def _user_of(dovecot: DovecotServer, smtp: SMTPServer, name: str, pw: str) -> MailUser:
    """The `MailUser` of a user just added to `dovecot`, sending through `smtp`."""
    return MailUser(
        name=name,
        password=pw,
        email=dovecot.email(name),
        home=dovecot.home(name),
        maildir=dovecot.maildir(name).root,
        host=dovecot.host,
        imap_port=dovecot.imap_port,
        imaps_port=dovecot.imaps_port,
        pop3_port=dovecot.pop3_port,
        pop3s_port=dovecot.pop3s_port,
        smtp_port=smtp.port,
        smtps_port=smtp.smtps_port,
        ca_path=dovecot.ca_path,
        dovecot=dovecot,
        smtp=smtp,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:24].rstrip("_")


@pytest.fixture
def mail_user_factory(
    dovecot: DovecotServer, smtp_server: SMTPServer, request: pytest.FixtureRequest
) -> Callable[..., MailUser]:
    """`factory(hint=None, password=None)`: a new user with a unique name and empty mail."""
    test_slug = _slug(request.node.name.removeprefix("test_")) or "user"

    def make(hint: str | None = None, password: str | None = None) -> MailUser:
        name = f"u{next(_user_numbers):03d}_{_slug(hint) if hint else test_slug}"
        pw = password if password is not None else secrets.token_urlsafe(12)
        dovecot.add_user(name, pw)
        return _user_of(dovecot, smtp_server, name, pw)

    return make


@pytest.fixture
def mail_user(mail_user_factory: Callable[..., MailUser]) -> MailUser:
    return mail_user_factory()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    for key, fixture, offset_key in (
        ("dovecot", "dovecot", _LOG_OFFSET),
        ("oauth_dovecot", "oauth_servers", _OAUTH_LOG_OFFSET),
    ):
        server = _state.get(key)
        if not isinstance(server, DovecotServer) or fixture not in getattr(
            item, "fixturenames", ()
        ):
            continue
        if report.when == "setup":
            item.stash[offset_key] = server.log_size()
        elif report.failed:
            text = server.log_text(item.stash.get(offset_key, 0))
            lines = text.splitlines()[-60:]
            report.sections.append(
                (f"{key} log ({server.log_path})", "\n".join(lines) or "(nothing logged)")
            )
    sogo = _state.get("sogo")
    if isinstance(sogo, SOGoServer) and "sogo" in getattr(item, "fixturenames", ()):
        if report.when == "setup":
            item.stash[_SOGO_LOG_OFFSET] = sogo.log_size()
        elif report.failed:
            lines = sogo.log_text(item.stash.get(_SOGO_LOG_OFFSET, 0)).splitlines()[-60:]
            report.sections.append(
                (f"sogo log ({sogo.log_path})", "\n".join(lines) or "(nothing logged)")
            )
    return report

"""ActiveSync over HTTP ([MS-ASHTTP]): one command is one POST, WBXML both ways.

    POST <url>?Cmd=Sync&User=alice&DeviceId=…&DeviceType=…
    MS-ASProtocolVersion: 14.1          the version OPTIONS chose (best_version)
    X-MS-PolicyKey: 1307199584          once provisioned
    Authorization: Basic … | Bearer …
    Content-Type: application/vnd.ms-sync.wbxml

What the server answers besides 200, as errors (``mailtui.errors``):

    401, 403     AuthError, saying which (password, token, access to ActiveSync)
    404, 501     ConfigError: no ActiveSync there, or not this command
    449          status.ProvisionRequired: provision again, then repeat
    451          Redirected: the account's new address (X-MS-Location), to be kept
    503          ServerBusy (a TransientError) with the server's Retry-After
    500, 5xx     TransientError; other 4xx: OpRejected; 3xx: ConfigError (not ActiveSync)

Trust is the other protocols' (``protocols.net.tls``): the system store, exactly
``ca_file``, or with ``tls_fingerprint`` the pinned certificate, checked in the TLS
handshake itself so that not a byte of HTTP (let alone a password) reaches another
server. A password never goes over plain http unless the account says ``security =
"none"`` (``allow_plain``).
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import secrets
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from mailtui.errors import AuthError, ConfigError, OpRejected, SyncError, TransientError
from mailtui.protocols.eas import multipart
from mailtui.protocols.eas.status import ProvisionRequired
from mailtui.protocols.eas.wbxml import Element, WbxmlError, decode, encode
from mailtui.protocols.net import tls
from mailtui.protocols.net.connect import (
    CertificateNotTrusted,
    not_trusted_presenting,
    tls_error,
)
from mailtui.protocols.net.credentials import Credentials

WBXML = "application/vnd.ms-sync.wbxml"
#: The versions mailtui speaks, best first.
VERSIONS = ("16.1", "16.0", "14.1", "14.0", "12.1")
#: The largest response read (a whole MIME message with attachments can be big).
MAX_RESPONSE = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What OPTIONS told: the versions and commands the server offers, the version
    chosen, the server's own version header (``MS-Server-ActiveSync``)."""

    versions: tuple[str, ...]
    commands: frozenset[str]
    version: str
    server: str | None


@dataclass(frozen=True, slots=True)
class Response:
    """A 200 answer. ``document`` is its WBXML as a tree, None when the body is empty
    (SOGo answers a Sync with nothing new that way). A multipart answer (ItemOperations
    asked with ``MS-ASAcceptMultiPart``) has the document in part 0 and ``parts``."""

    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def multipart(self) -> bool:
        kind = str(self.headers.get("content-type", WBXML)).partition(";")[0]
        return kind.strip().lower() == multipart.MULTIPART

    @property
    def parts(self) -> list[bytes]:
        """The parts of a multipart answer ([the body] otherwise)."""
        return multipart.split(self.body) if self.multipart else [self.body]

    @property
    def document(self) -> Element | None:
        if not self.body:
            return None
        if self.multipart:
            return decode(self.parts[0])
        kind = self.headers.get("content-type", WBXML).partition(";")[0].strip().lower()
        if kind != WBXML:
            raise WbxmlError(f"WBXML: the server answered {kind or 'no content type'}")
        return decode(self.body)


class Redirected(SyncError):
    """HTTP 451: the account lives at ``location`` from now on. The caller keeps it (in
    the account's state) and repeats the command there; ``same_host`` says whether the
    credentials would go to the host they were meant for."""

    def __init__(self, location: str, same_host: bool) -> None:
        self.location = location
        self.same_host = same_host
        super().__init__(f"the server moved this account to {location} (HTTP 451)")


class NoAnswer(TransientError):
    """A request sent with ``once`` may have reached the server, and no answer came:
    whether it was done cannot be known (for SendMail: the message may be on its way)."""


#: Transport errors before a byte of the request left: nothing reached the server.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class ServerBusy(TransientError):
    """HTTP 503: the server is busy or throttles this client; ``retry_after`` is the
    wait in seconds it asked for (None when it did not say)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


def best_version(offered: str | None) -> str:
    """The best version both speak, from an ``MS-ASProtocolVersions`` header;
    ConfigError naming what the server offers when there is none."""
    versions = [v.strip() for v in (offered or "").split(",") if v.strip()]
    for version in VERSIONS:
        if version in versions:
            return version
    if not versions:
        raise ConfigError("the server does not offer ActiveSync (no MS-ASProtocolVersions)")
    raise ConfigError(
        f"the server offers ActiveSync versions {', '.join(versions)}; mailtui needs one "
        f"of {', '.join(reversed(VERSIONS))}"
    )


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), None if
    absent or unreadable; never negative, at most a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 86400))
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(0.0, when - (time.time() if now is None else now)), 86400.0)


def pinning_context(fingerprint: str, host: str) -> ssl.SSLContext:
    """A context whose handshake fails with ``tls.PinMismatch`` unless the server shows
    the pinned certificate: httpx sends its request right after the handshake, so the
    check cannot wait until then."""
    context = tls.pinned_context()

    class _Pinned(ssl.SSLObject):
        def do_handshake(self) -> None:
            super().do_handshake()
            tls.check_pin(self, fingerprint, host)

    context.sslobject_class = _Pinned
    return context


_DEVICE_WORD = re.compile(r"[A-Za-z0-9]{1,32}")


def new_device_id() -> str:
    """A DeviceId for a new account: 32 random hex digits, kept with the account from
    then on (the server keeps its sync state and its device approval under it)."""
    return secrets.token_hex(16)


class EasHttp:
    """One account's ActiveSync endpoint. ``protocol_version`` and ``policy_key`` are
    the caller's to set (OPTIONS sets the version; Provision gives the key)."""

    def __init__(
        self,
        url: str,
        *,
        username: str,
        credentials: Credentials,
        device_id: str,
        device_type: str = "mailtui",
        ca_file: Path | None = None,
        tls_fingerprint: str | None = None,
        allow_plain: bool = False,
        protocol_version: str = "14.1",
        policy_key: str | None = None,
        timeout: float = 60.0,
        user_agent: str = "mailtui",
        max_response: int = MAX_RESPONSE,
        keepalive: bool = True,
    ) -> None:
        for key, value in (("device_id", device_id), ("device_type", device_type)):
            if not _DEVICE_WORD.fullmatch(value):
                raise ConfigError(f"{key}: {value!r} is not 1 to 32 letters and digits")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"url: {url!r} is not an http(s) address")
        if parts.scheme == "http" and not allow_plain:
            raise ConfigError(
                f"url: {url} is plain http, which would send the password unencrypted; "
                'use https, or set security = "none" to allow it'
            )
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.username = username
        self.device_id = device_id
        self.device_type = device_type
        self.protocol_version = protocol_version
        self.policy_key = policy_key
        self.max_response = max_response
        self._credentials = credentials
        self._pinned = bool(tls_fingerprint)
        self._allow_plain = allow_plain
        if tls_fingerprint:
            verify: ssl.SSLContext = pinning_context(tls_fingerprint, self.host)
        else:
            verify = tls.client_context(ca_file)
        headers = {"User-Agent": user_agent}
        if credentials.oauth_token:
            headers["Authorization"] = f"Bearer {credentials.oauth_token}"
        auth = None if credentials.oauth_token else httpx.BasicAuth(username, credentials.secret)
        self._client = httpx.AsyncClient(
            verify=verify,
            auth=auth,
            headers=headers,
            timeout=timeout,
            trust_env=False,
            follow_redirects=False,
            # keepalive False: every request on a new connection (SendMail: a connection
            # the server dropped unseen must not be mistaken for a message lost on the way)
            limits=httpx.Limits(
                max_connections=100, max_keepalive_connections=20 if keepalive else 0
            ),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def options(self) -> ServerInfo:
        """OPTIONS: the versions and commands the server offers; sets
        ``protocol_version`` to the best both speak."""
        response = await self._send("OPTIONS", self.url, "OPTIONS", None, {}, None)
        offered = response.headers.get("MS-ASProtocolVersions")
        version = best_version(offered)
        commands = response.headers.get("MS-ASProtocolCommands", "")
        self.protocol_version = version
        return ServerInfo(
            versions=tuple(v.strip() for v in (offered or "").split(",") if v.strip()),
            commands=frozenset(c.strip() for c in commands.split(",") if c.strip()),
            version=version,
            server=response.headers.get("MS-Server-ActiveSync"),
        )

    async def post(
        self,
        command: str,
        document: Element | bytes | None = None,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = WBXML,
        timeout: float | None = None,
        once: bool = False,
    ) -> Response:
        """One command: ``document`` as WBXML (or raw bytes of ``content_type``, e.g.
        ``message/rfc822`` for SendMail before 14.0), ``params`` added to the query
        (``SaveInSent``, ``ItemId``…), ``headers`` added too (``MS-ASAcceptMultiPart``);
        ``timeout`` for a long Ping or Sync Wait.

        ``once``: a request that must not go twice (SendMail). It is never sent again by
        itself, and when it may have reached the server but no answer came (the line
        broke, the time ran out) the error is ``NoAnswer`` instead of a TransientError
        that would say nothing was done."""
        query = {"Cmd": command, "User": self.username, "DeviceId": self.device_id,
                 "DeviceType": self.device_type, **(params or {})}  # fmt: skip
        sent = {**(headers or {}), "MS-ASProtocolVersion": self.protocol_version}
        if self.policy_key is not None:
            sent["X-MS-PolicyKey"] = self.policy_key
        body = encode(document) if isinstance(document, Element) else document
        if body is not None:
            sent["Content-Type"] = content_type
        url = httpx.URL(self.url, params=query)
        return await self._send("POST", url, command, body, sent, timeout, once=once)

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        doing: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: float | None,
        *,
        once: bool = False,
    ) -> Response:
        request = self._client.build_request(
            method,
            url,
            content=body,
            headers=headers,
            timeout=self._client.timeout if timeout is None else timeout,
        )
        try:
            try:
                answer = await self._client.send(request, stream=True)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
                if once:
                    raise
                # A kept-alive connection the server closed without saying so (SOGo does,
                # every few dozen requests) fails the next request before any answer:
                # once more, on a new connection. Resending is what a retry after a
                # TransientError would do anyway, only later.
                answer = await self._client.send(request, stream=True)
            try:
                data = await self._read(answer)
            finally:
                await answer.aclose()
        except tls.PinMismatch as exc:
            raise ConfigError(str(exc)) from None
        except httpx.TransportError as exc:
            if once and not isinstance(exc, _BEFORE_SENDING):
                raise NoAnswer(self._no_answer(doing, exc)) from None
            raise await self._transport_error(exc) from None
        return self._judge(doing, Response(answer.status_code, answer.headers, data))

    async def _read(self, answer: httpx.Response) -> bytes:
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_response:
            raise TransientError(self._too_big())
        data = bytearray()
        async for chunk in answer.aiter_bytes():  # decompressed: the limit holds for both
            data += chunk
            if len(data) > self.max_response:
                raise TransientError(self._too_big())
        return bytes(data)

    def _no_answer(self, doing: str, exc: httpx.TransportError) -> str:
        what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else (
            "closed the connection")
        return f"{self.host} {what} after {doing} was sent"

    def _too_big(self) -> str:
        return f"{self.host} sent a response larger than {self.max_response // 2**20} MB"

    def _judge(self, doing: str, response: Response) -> Response:
        code = response.status
        where = f"{doing} at {self.host}"
        if code == 200:
            return response
        if code == 401:
            offered = response.headers.get("www-authenticate", "").lower()
            if self._credentials.oauth_token:
                why = "the server refused the access token (expired or revoked: sign in again)"
            elif offered.startswith("bearer") and "basic" not in offered:
                why = 'the server takes OAuth sign-in only: set auth = "oauth2" for the account'
            else:
                why = "the server refused the user name or password"
            raise AuthError(f"{why} (HTTP 401)")
        if code == 403:
            raise AuthError(
                "the server refused access (HTTP 403): ActiveSync may be turned off for "
                "this account, or this device not allowed by the server's administrator"
            )
        if code == 404:
            raise ConfigError(f"there is no ActiveSync at {self.url} (HTTP 404): check url")
        if code == 449:
            raise ProvisionRequired(f"{where}: the server wants the device provisioned (HTTP 449)")
        if code == 451:
            raise self._redirect(response.headers.get("x-ms-location"))
        if code == 501:
            raise ConfigError(f"{where}: the server does not implement {doing} (HTTP 501)")
        if code == 503:
            wait = retry_after(response.headers.get("retry-after"))
            later = f", asks to wait {wait:.0f} s" if wait is not None else ""
            raise ServerBusy(f"{where}: the server is busy (HTTP 503{later})", wait)
        if code == 507:
            raise TransientError(f"{where}: the server is out of storage (HTTP 507)")
        if 300 <= code < 400:
            target = response.headers.get("location", "elsewhere")
            raise ConfigError(
                f"{self.url} sends to {target} (HTTP {code}): not an ActiveSync address, check url"
            )
        if code >= 500:
            raise TransientError(f"{where}: server error (HTTP {code})")
        raise OpRejected(f"{where}: the server refused the request (HTTP {code})")

    def _redirect(self, location: str | None) -> MailtuiErrorLike:
        if not location:
            return TransientError("the server redirects (HTTP 451) without saying where")
        target = urlsplit(location)
        plain_ok = self._allow_plain and target.scheme == "http"
        if not target.hostname or (target.scheme != "https" and not plain_ok):
            return ConfigError(f"the server redirects to {location!r}, which is not https")
        return Redirected(location, target.hostname.lower() == self.host.lower())

    async def _transport_error(self, exc: httpx.TransportError) -> MailtuiErrorLike:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, ssl.SSLError):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, ssl.SSLError):
            error = tls_error(self.host, cause)
            if isinstance(error, CertificateNotTrusted) and not self._pinned:
                presented = await presented_fingerprint(self.host, self.port)
                if presented is not None:
                    error = not_trusted_presenting(error, presented)
            return error
        if isinstance(exc, httpx.TimeoutException):
            return TransientError(f"{self.host} did not answer in time")
        why = str(exc) or exc.__class__.__name__
        if isinstance(exc, httpx.ConnectError):
            return TransientError(f"cannot reach {self.host}:{self.port}: {why}")
        return TransientError(f"the connection to {self.host}:{self.port} broke: {why}")


MailtuiErrorLike = ConfigError | TransientError | Redirected


async def presented_fingerprint(host: str, port: int, timeout: float = 10.0) -> str | None:
    """The fingerprint of the certificate ``host:port`` presents, by a handshake that
    verifies nothing and sends nothing; None when there is none to be had."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                host, port, ssl=tls.pinned_context(), server_hostname=host
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        return tls.peer_fingerprint(writer.get_extra_info("ssl_object"))
    finally:
        writer.close()

"""SMTP submission (aiosmtplib): one connection, any number of messages.

Security (``SmtpSettings.security``):

| mode       | what happens                                                              |
| ---------- | ------------------------------------------------------------------------- |
| `tls`      | TLS from the first byte (port 465)                                        |
| `starttls` | plain greeting, then STARTTLS before anything else; a server that does   |
|            | not offer it is refused (``SmtpConfigError``), never used in plain text   |
| `none`     | plain text throughout (only when the config says so explicitly)           |

Certificates are verified against the system store, or against exactly ``ca_file`` when
the account names one, or, with ``tls_fingerprint``, only the one certificate with that
SHA-256 fingerprint is accepted (``mailtui.protocols.net.tls``; checked right after the
handshake, before EHLO). With ``login`` False (``auth = "none"``: a relay) there is no
AUTH at all, under the same TLS rules. Otherwise AUTH uses PLAIN (else LOGIN) with a
password, OAUTHBEARER (RFC 7628, else XOAUTH2) with an OAuth access token.

``SmtpConnection.send`` runs one transaction and says in its exception *how sure* the
client is about the outcome, which is what the outbox needs to never lose or duplicate
mail:

| exception              | meaning                                   | the outbox          |
| ---------------------- | ----------------------------------------- | ------------------- |
| ``SmtpTransientError`` | not accepted: a 4xx reply, or the line    | retries with        |
|                        | dropped before DATA                       | backoff             |
| ``RecipientsRefused``  | some recipients refused (per address);    | retries (all 4xx)   |
|                        | sent to no one (RSET before DATA)         | or waits for user   |
| ``SmtpRejected``       | refused for good (5xx)                    | waits for the user  |
| ``SmtpUncertain``      | handed over, but no reply came (line      | waits for the user: |
|                        | lost or timed out after DATA)             | it may have gone    |
| ``SmtpAuthError``      | login refused                             | waits for the user  |
| ``SmtpConfigError``    | no STARTTLS, certificate not trusted …    | waits for the user  |

Nothing here touches the store (``tests/unit/test_boundaries.py``).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import aiosmtplib

from mailtui.errors import SyncError
from mailtui.mime import clean_line
from mailtui.models import Security
from mailtui.protocols.net import sasl, tls
from mailtui.protocols.net.connect import presented_note
from mailtui.protocols.net.credentials import Credentials

__all__ = [
    "Credentials",
    "RecipientsRefused",
    "Security",
    "SmtpAuthError",
    "SmtpConfigError",
    "SmtpConnection",
    "SmtpError",
    "SmtpRejected",
    "SmtpSettings",
    "SmtpTransientError",
    "SmtpUncertain",
]

DEFAULT_TIMEOUT = 60.0
#: The hostname we give in EHLO: no need to leak the machine's name to the server.
EHLO_NAME = "mailtui.localhost"

#: The debug log's SMTP lines (``mailtui --debug-log``): the steps, never AUTH data.
wire_log = logging.getLogger("mailtui.wire.smtp")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: Security | str
    username: str = ""
    ca_file: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    tls_fingerprint: str | None = None  # 64 hex digits: trust only this certificate
    #: False: the server takes mail without AUTH (``auth = "none"``); nobody logs in.
    login: bool = True


class SmtpError(SyncError):
    """Base of every error here; ``str()`` is one line for the user."""

    transient = False


class SmtpConfigError(SmtpError):
    """The settings cannot work (STARTTLS missing, certificate not trusted, no AUTH)."""


class SmtpAuthError(SmtpError):
    """The server refused the login."""


class SmtpTransientError(SmtpError):
    """Not accepted this time (network, 4xx); trying again later may work."""

    transient = True


class SmtpRejected(SmtpError):
    """The server refused the message for good (5xx)."""


class SmtpUncertain(SmtpError):
    """The message was handed to the server but its answer never came: it may have
    been accepted. Sending it again may deliver it twice."""


class RecipientsRefused(SmtpError):
    """Some recipients were refused; the message was not sent to anyone.

    ``refused`` maps each refused address to the server's reply (code and words);
    ``accepted`` lists the others. ``transient`` is True when every refusal was 4xx.
    """

    def __init__(self, refused: dict[str, str], accepted: Sequence[str], transient: bool):
        self.refused = refused
        self.accepted = tuple(accepted)
        self.transient = transient
        detail = "; ".join(f"{addr}: {reply}" for addr, reply in refused.items())
        n = len(refused)
        super().__init__(
            f"the server refused {n} recipient{'s' if n != 1 else ''} ({detail}); nothing was sent"
        )


def _reply(code: int, message: str) -> str:
    text = " ".join(clean_line(message).split())
    return f"{code} {text}"[:300]


def _tls_context(ca_file: Path | None, fingerprint: str | None = None) -> ssl.SSLContext:
    return tls.client_context(ca_file, fingerprint)


class _NotTrusted(SmtpConfigError):
    """The certificate failed verification (system store or ``ca_file``)."""


PROBE_TIMEOUT = 10.0


async def presented_fingerprint(settings: SmtpSettings) -> str | None:
    """The SHA-256 fingerprint of the certificate the server presents (a handshake that
    checks nothing; no AUTH, no mail); None if that cannot be had."""
    security = Security(str(settings.security))
    if security is Security.NONE:
        return None
    context = tls.pinned_context()
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=security is Security.TLS,
        start_tls=False,
        tls_context=context,
        timeout=min(settings.timeout, PROBE_TIMEOUT),
        local_hostname=EHLO_NAME,
    )
    try:
        await client.connect()
        if security is Security.STARTTLS:
            await client.ehlo()
            await client.starttls(tls_context=context)
        return tls.peer_fingerprint(client.get_transport_info("ssl_object"))
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        return None
    finally:
        client.close()


def _describe_connect_error(settings: SmtpSettings, exc: BaseException) -> SmtpError:
    where = f"{settings.host}:{settings.port}"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _NotTrusted(
                f"the certificate of {where} could not be verified "
                f"({cause.verify_message or cause.reason}); set ca_file (or "
                "tls_fingerprint) if the server uses its own certificate"
            )
        if isinstance(cause, ssl.SSLError):
            return SmtpConfigError(
                f"TLS with {where} failed ({cause.reason or cause}); check the port and "
                "security settings"
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return SmtpTransientError(f"{where} did not answer in time")
    if isinstance(exc, ConnectionRefusedError):
        return SmtpTransientError(f"{where} refused the connection")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SmtpTransientError(f"{where} is not taking mail: {_reply(exc.code, exc.message)}")
    if isinstance(exc, OSError) and exc.strerror:
        return SmtpTransientError(f"cannot reach {where}: {exc.strerror.lower()}")
    text = str(exc) or exc.__class__.__name__
    return SmtpTransientError(f"cannot reach {where}: {clean_line(text)[:200]}")


class SmtpConnection:
    """An authenticated submission connection. ``await SmtpConnection.open(...)``, then
    ``send`` as often as needed, then ``close``; also an async context manager."""

    def __init__(self, settings: SmtpSettings, client: aiosmtplib.SMTP) -> None:
        self.settings = settings
        self._client = client

    @classmethod
    async def open(cls, settings: SmtpSettings, credentials: Credentials) -> SmtpConnection:
        """Connect, secure and log in.

        Raises:
            SmtpConfigError, SmtpAuthError, SmtpTransientError.
        """
        security = Security(str(settings.security))
        pin = settings.tls_fingerprint if security is not Security.NONE else None
        context = _tls_context(settings.ca_file, pin)
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=security is Security.TLS,
            start_tls=False,  # done below, so a missing STARTTLS is an error, not plain text
            tls_context=context,
            timeout=settings.timeout,
            local_hostname=EHLO_NAME,
        )
        conn = cls(settings, client)
        try:
            await client.connect()
            if security is Security.TLS:
                conn._check_pin(pin)
            await client.ehlo()
            if security is Security.STARTTLS:
                if not client.supports_extension("starttls"):
                    raise SmtpConfigError(
                        f"{settings.host}:{settings.port} does not offer STARTTLS; mailtui "
                        "will not send a password or mail over it in plain text (use "
                        'security = "tls" with port 465 if the server has it)'
                    )
                await client.starttls(tls_context=context)
                conn._check_pin(pin)
                await client.ehlo()
            await conn._login(credentials)
        except SmtpError:
            conn._abort()
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            conn._abort()
            if 400 <= exc.code < 500:
                raise SmtpTransientError(
                    f"login failed for now: {_reply(exc.code, exc.message)}"
                ) from None
            if credentials.oauth_token:
                raise SmtpAuthError(
                    f"{settings.host} refused the OAuth access token for "
                    f"{settings.username!r}: {_reply(exc.code, exc.message)}; the token "
                    "may have expired or lack the mail scope: check what token_command "
                    "prints (or the keyring entry)"
                ) from None
            raise SmtpAuthError(
                f"{settings.host} refused the login for {settings.username!r}: "
                f"{_reply(exc.code, exc.message)}"
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            conn._abort()
            error = _describe_connect_error(settings, exc)
            if isinstance(error, _NotTrusted):
                # Which certificate it was, for the user to compare with the server's own.
                presented = await presented_fingerprint(settings)
                if presented is not None:
                    error = SmtpConfigError(f"{error}; {presented_note(presented)}")
            raise error from None
        return conn

    def _check_pin(self, fingerprint: str | None) -> None:
        """With ``tls_fingerprint``: the server's certificate must be that one."""
        if fingerprint is None:
            return
        ssl_object = self._client.get_transport_info("ssl_object")
        try:
            tls.check_pin(ssl_object, fingerprint, f"{self.settings.host}:{self.settings.port}")
        except tls.PinMismatch as exc:
            raise SmtpConfigError(str(exc)) from None

    async def _login(self, credentials: Credentials) -> None:
        client = self._client
        user = self.settings.username
        if not self.settings.login:
            return  # a relay that takes mail without a login (auth = "none")
        if not user or not (credentials.password or credentials.oauth_token):
            return  # an open relay on the local network, say
        if not client.supports_extension("auth"):
            raise SmtpConfigError(
                f"{self.settings.host} does not offer a login (no AUTH) on this connection; "
                'if it takes mail without one (a local or company relay), set auth = "none" '
                "in the account's [smtp] table"
            )
        methods = {m.upper() for m in client.esmtp_extensions.get("auth", "").split()}
        if credentials.oauth_token:
            token = credentials.oauth_token
            # OAUTHBEARER is the standard (RFC 7628); XOAUTH2 its older Google twin. After
            # an error challenge (JSON), the client's answer ends the exchange: %x01 for
            # OAUTHBEARER, an empty line for XOAUTH2.
            mechanism = sasl.pick(methods, oauth=True)
            if mechanism is None:
                raise SmtpConfigError(
                    f"{self.settings.host} offers no OAuth login (AUTH {' '.join(sorted(methods))})"
                )
            [initial] = sasl.responses(
                mechanism, user, token, self.settings.host, self.settings.port
            )
            wire_log.debug("%s C: AUTH %s <authentication data>", self.settings.host, mechanism)
            await self._auth(
                mechanism.encode(),
                sasl.encode(initial, initial=True),
                sasl.encode(sasl.error_reply(mechanism) or b""),
            )
            return
        assert credentials.password is not None
        wire_log.debug(
            "%s C: AUTH %s <authentication data>",
            self.settings.host,
            "PLAIN" if "PLAIN" in methods else "LOGIN",
        )
        if "PLAIN" in methods:
            await client.auth_plain(user, credentials.password)
        elif "LOGIN" in methods:
            await client.auth_login(user, credentials.password)
        else:
            raise SmtpConfigError(
                f"{self.settings.host} offers no password login mailtui knows "
                f"(AUTH {' '.join(sorted(methods)) or 'nothing'})"
            )

    async def _auth(self, mechanism: bytes, initial: bytes, on_challenge: bytes) -> None:
        client = self._client
        response = await client.execute_command(b"AUTH", mechanism, initial)
        if response.code == 334:
            # An error challenge (JSON in base64); the answer ends the exchange.
            response = await client.execute_command(on_challenge)
        if response.code != 235:
            raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)

    @property
    def extensions(self) -> dict[str, str]:
        """What the server announced in its last EHLO (lower-case keys)."""
        return dict(self._client.esmtp_extensions)

    async def send(
        self,
        mail_from: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        """One SMTP transaction. Every recipient must be accepted, or none is sent to.

        ``before_data`` runs once every recipient has been accepted and before DATA: the
        outbox records there that the message may be on its way. If it raises, the
        transaction is reset and the exception goes through.

        Returns:
            The server's reply to the message (its queue id, usually).

        Raises:
            SmtpTransientError, RecipientsRefused, SmtpRejected, SmtpUncertain.
        """
        client = self._client
        if not recipients:
            raise SmtpRejected("the message has no recipients")
        utf8 = not all(a.isascii() for a in (mail_from, *recipients))
        if utf8 and not client.supports_extension("smtputf8"):
            raise SmtpRejected(
                "the server does not take international (non-ASCII) addresses (no SMTPUTF8)"
            )
        options: list[str] = []
        if not raw.isascii():
            if not client.supports_extension("8bitmime"):
                raise SmtpRejected(
                    "the message has 8-bit content and the server does not accept it (no 8BITMIME)"
                )
            options.append("BODY=8BITMIME")
        if utf8:
            options.append("SMTPUTF8")
        size_limit = client.esmtp_extensions.get("size", "").strip()
        if size_limit.isdigit() and int(size_limit) > 0:
            if len(raw) > int(size_limit):
                raise SmtpRejected(
                    f"the message is {len(raw) / 1e6:.1f} MB; the server takes at most "
                    f"{int(size_limit) / 1e6:.1f} MB"
                )
            options.append(f"SIZE={len(raw)}")
        encoding = "utf-8" if utf8 else "ascii"
        host = self.settings.host
        wire_log.debug("%s C: MAIL FROM:<%s> %s", host, mail_from, " ".join(options))
        try:
            await client.mail(mail_from, options=options, encoding=encoding)
        except aiosmtplib.SMTPSenderRefused as exc:
            raise self._refusal(exc.code, exc.message, f"the sender address {mail_from}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise self._dropped(exc) from None
        refused: dict[str, str] = {}
        accepted: list[str] = []
        transient = True
        try:
            for rcpt in recipients:
                try:
                    await client.rcpt(rcpt, encoding=encoding)
                    accepted.append(rcpt)
                    wire_log.debug("%s C: RCPT TO:<%s> accepted", host, rcpt)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused[rcpt] = _reply(exc.code, exc.message)
                    wire_log.debug("%s C: RCPT TO:<%s> %s", host, rcpt, refused[rcpt])
                    transient = transient and 400 <= exc.code < 500
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise self._dropped(exc) from None
        if refused:
            await self._reset()
            raise RecipientsRefused(refused, accepted, transient)
        if before_data is not None:
            try:
                await before_data()
            except BaseException:
                await self._reset()
                raise
        try:
            response = await client.data(raw)
        except aiosmtplib.SMTPDataError as exc:
            raise self._refusal(exc.code, exc.message, "the message") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The server may have the whole message and have accepted it; we cannot know.
            what = (
                "did not answer in time"
                if isinstance(exc, TimeoutError)
                else "closed the connection"
            )
            raise SmtpUncertain(
                f"the server {what} after receiving the message; it may or may not have been sent"
            ) from None
        reply = _reply(response.code, response.message)
        wire_log.debug("%s C: DATA (%d bytes) %s", host, len(raw), reply)
        return reply

    def _refusal(self, code: int, message: str, what: str) -> SmtpError:
        reply = _reply(code, message)
        if 400 <= code < 500:
            return SmtpTransientError(f"the server deferred {what}: {reply}")
        return SmtpRejected(f"the server refused {what}: {reply}")

    def _dropped(self, exc: BaseException) -> SmtpError:
        if isinstance(exc, TimeoutError):
            return SmtpTransientError("the server did not answer in time")
        return SmtpTransientError("the server closed the connection before the message was sent")

    async def _reset(self) -> None:
        try:
            await self._client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self._abort()

    def _abort(self) -> None:
        self._client.close()

    async def close(self) -> None:
        """QUIT politely; never raises."""
        client = self._client
        if client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
        client.close()

    async def __aenter__(self) -> SmtpConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

"""Sending over ActiveSync ([MS-ASCMD] SendMail, SmartReply, SmartForward) as the outbox
sender's ``Submission``, with the outbox's guarantees (``mailtui.sync.outbox``).

    open:    OPTIONS (the version, whether SendMail is offered); the account's DeviceId
             and PolicyKey from its sync state (a DeviceId made and kept if it has none)
    submit:  before_data() ─▶ SendMail | SmartReply | SmartForward (ClientId,
             SaveInSentItems, ReplaceMime, the outbox's MIME as opaque data)
             449 / status 140-144 ─▶ Provision, then the same request once more;
             the new PolicyKey written back to the account state (the backend's
             next start sends it instead of getting a 449 of its own)

A reply or forward whose original the server knows (``Original``: its CollectionId and
ServerId) goes as SmartReply / SmartForward, so the server links it to the original;
``ReplaceMime`` makes it send our MIME as it is (the composer already quoted or
attached what it should). Otherwise, or when the server no longer has the original
(status 150), SendMail. Before 14.0 the same commands take the MIME as the request body
with ``SaveInSent=T`` (and ``ItemId``/``CollectionId``) in the query.

ActiveSync has no envelope: the server sends to the To, Cc and Bcc of the MIME. A
recipient the outbox has that those fields lack is added as Bcc (the server sends to it
and takes the field out); an address in those fields that is not among the recipients
is refused before anything goes, since the server would send to it anyway.

Outcomes in the SMTP classes the outbox's crash policy rests on:

    an answer of success, or status 118 (sent before under this ClientId)   sent
    401/403, status 123-131                       SmtpAuthError (stays queued)
    404, 501, 3xx, a policy mailtui cannot meet   SmtpConfigError (stays queued)
    503, 5xx, status 110/111/114, not reached     SmtpTransientError (retried)
    another refusal (status 113, 115, 116, …)     SmtpRejected (failed)
    no answer once the request went out           SmtpUncertain (never resent by itself)

The request goes on a connection of its own and is never repeated by the HTTP layer
(``EasHttp.post(once=True)``). The ClientId is the message's digest, so a user who
retries an uncertain message gets status 118 from a server that did send it.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from mailtui import secrets
from mailtui.config import AccountConfig
from mailtui.errors import AuthError, ConfigError, MailtuiError, OpRejected, TransientError
from mailtui.mime import header_block
from mailtui.models import Security
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp, NoAnswer, Redirected, Response, new_device_id
from mailtui.protocols.eas.provision import provision
from mailtui.protocols.eas.session import DEVICE_TYPE, default_url
from mailtui.protocols.eas.status import ProvisionRequired
from mailtui.protocols.eas.wbxml import Element, WbxmlError
from mailtui.protocols.net.credentials import credentials
from mailtui.protocols.smtp import (
    SmtpAuthError,
    SmtpConfigError,
    SmtpError,
    SmtpRejected,
    SmtpTransientError,
    SmtpUncertain,
)
from mailtui.sync.contract import AccountStateAccess, Original, Submission, SubmissionFactory

#: Status 118: the server sent a message with this ClientId before.
PREVIOUSLY_SENT = "118"
#: Status 150: the original of a SmartReply/SmartForward is gone.
ITEM_NOT_FOUND = "150"


def endpoint(acc: AccountConfig, kept: Mapping[str, Any] | None = None) -> str:
    """Where the account's ActiveSync is, as the sync session has it: the address a 451
    redirect gave (kept in the account state), else ``url``, else the default."""
    redirected = (kept or {}).get("url")
    return str(redirected or acc.url or default_url(acc))


def client_id(raw: bytes) -> str:
    """The ClientId of a message: the same bytes, the same id (a retry is recognised)."""
    return hashlib.sha256(raw).hexdigest()[:32]


def smtp_error(exc: MailtuiError, doing: str = "") -> SmtpError:
    """An ActiveSync error as the SMTP class that says what became of the message."""
    text = f"{doing}: {exc}" if doing else str(exc)
    if isinstance(exc, NoAnswer):
        return SmtpUncertain(f"{text}; it may or may not have been sent")
    if isinstance(exc, AuthError):
        return SmtpAuthError(text)
    if isinstance(exc, (ConfigError, Redirected)):
        return SmtpConfigError(text)
    if isinstance(exc, (TransientError, ProvisionRequired)):
        return SmtpTransientError(text)
    if isinstance(exc, OpRejected):
        return SmtpRejected(text)
    return SmtpTransientError(text)


def recipients_in_mime(raw: bytes, recipients: Sequence[str]) -> bytes:
    """``raw`` with a Bcc field for the recipients its To, Cc and Bcc lack. Raises
    SmtpRejected when those fields name an address that is not a recipient."""
    named = header_block.addresses(raw)
    wanted = {r.casefold() for r in recipients}
    unwanted = [a for a in named if a.casefold() not in wanted]
    if unwanted:
        raise SmtpRejected(
            "ActiveSync sends to every address in To, Cc and Bcc, and "
            f"{', '.join(unwanted)} {'is' if len(unwanted) == 1 else 'are'} not among the "
            "recipients given; nothing was sent"
        )
    have = {a.casefold() for a in named}
    missing = [r for r in recipients if r.casefold() not in have]
    if not missing:
        return raw
    bcc = header_block.addresses(raw, ("bcc",))
    raw = header_block.without_fields(raw, ("bcc",))
    return header_block.with_field(raw, "Bcc", ", ".join([*bcc, *missing]))


class EasSubmission:
    """One account's ActiveSync endpoint as a ``Submission``; ``open_submission`` makes
    it. ``commands``: what OPTIONS offered (empty: the server did not say); ``state``:
    the account state the backend keeps, where a PolicyKey got here is written back."""

    def __init__(
        self,
        http: EasHttp,
        commands: frozenset[str] = frozenset(),
        state: AccountStateAccess | None = None,
    ) -> None:
        self.http = http
        self.commands = commands
        self.state = state

    async def submit(
        self,
        mail_from: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Callable[[], Awaitable[None]] | None = None,
        original: Original | None = None,
    ) -> str:
        if not recipients:
            raise SmtpRejected("the message has no recipients")
        mime = recipients_in_mime(raw, recipients)
        if original is not None and not self._offers("SmartForward" if original.forward
                                                     else "SmartReply"):  # fmt: skip
            original = None
        if before_data is not None:
            await before_data()
        answer = await self._send(mime, original, client_id(raw))
        if answer == ITEM_NOT_FOUND and original is not None:
            original = None  # the server no longer has it: refused, so nothing went
            answer = await self._send(mime, original, client_id(raw))
        if answer == PREVIOUSLY_SENT:
            return "sent before (the server knows this message: status 118)"
        command = "SendMail" if original is None else self._command(original)
        return f"accepted by {self.http.host} ({command})"

    async def close(self) -> None:
        await self.http.aclose()

    def _offers(self, command: str) -> bool:
        return not self.commands or command in self.commands

    @staticmethod
    def _command(original: Original | None) -> str:
        if original is None:
            return "SendMail"
        return "SmartForward" if original.forward else "SmartReply"

    async def _send(self, mime: bytes, original: Original | None, client: str) -> str:
        """Posts the command; provisions and posts once more if the server wants that.
        Returns "" for success, else a status that ``submit`` handles (118, 150)."""
        command = self._command(original)
        for attempt in (1, 2):
            try:
                response = await self._post(command, mime, original, client)
                return self._judge(command, response, original)
            except ProvisionRequired as exc:
                if attempt == 2:
                    raise SmtpTransientError(f"{command}: {exc}") from None
                try:
                    key = await provision(self.http)
                except MailtuiError as error:
                    raise smtp_error(error, "provisioning before sending") from None
                await self._keep_policy_key(key)
            except SmtpError:
                raise
            except MailtuiError as exc:
                raise smtp_error(exc) from None
        raise AssertionError("unreachable")

    async def _keep_policy_key(self, key: str | None) -> None:
        """The PolicyKey into the account state, as the backend's own Provision leaves
        it (``session.py``). The old key is void at the server now: without this the
        backend's next command would get a 449 and provision once more. A store that
        cannot be written costs only that, so it does not stop the message."""
        if self.state is None:
            return
        with contextlib.suppress(MailtuiError, OSError, sqlite3.Error):
            await self.state.update({"policy_key": key, "provisioned": True})

    async def _post(
        self, command: str, mime: bytes, original: Original | None, client: str
    ) -> Response:
        if self.http.protocol_version in ("12.0", "12.1"):
            params = {"SaveInSent": "T"}
            if original is not None:
                params |= {"ItemId": original.remote_id, "CollectionId": original.folder}
            return await self.http.post(
                command, mime, params=params, content_type="message/rfc822", once=True
            )
        parts = [Element("ComposeMail:ClientId", client)]
        if original is not None:
            source = [Element("ComposeMail:FolderId", original.folder),
                      Element("ComposeMail:ItemId", original.remote_id)]  # fmt: skip
            parts.append(Element("ComposeMail:Source", source))
        parts.append(Element("ComposeMail:SaveInSentItems"))
        if original is not None:
            parts.append(Element("ComposeMail:ReplaceMime"))
        parts.append(Element("ComposeMail:Mime", mime, opaque=True))
        return await self.http.post(command, Element(f"ComposeMail:{command}", parts), once=True)

    def _judge(self, command: str, response: Response, original: Original | None) -> str:
        try:
            document = response.document
        except WbxmlError as exc:
            raise SmtpUncertain(
                f"{command}: the server's answer cannot be read ({exc}); the message may or "
                "may not have been sent"
            ) from None
        if document is None:  # success has no body (MS-ASCMD 2.2.1.17)
            return ""
        code = (document.findtext("Status") or "1").strip()
        if code == "1":
            return ""
        if code == PREVIOUSLY_SENT or (code == ITEM_NOT_FOUND and original is not None):
            return code
        error = status.status_error(code, f"{command} at {self.http.host}")
        if isinstance(error, ProvisionRequired):
            raise error
        raise smtp_error(error)


async def open_submission(
    acc: AccountConfig, state: AccountStateAccess, *, timeout: float = 60.0
) -> EasSubmission:
    """The account's submission: its endpoint with its DeviceId and PolicyKey, the
    version chosen by OPTIONS. Raises the SMTP errors (``SmtpAuthError``, …)."""
    try:
        creds = await credentials(acc)
    except secrets.SecretError as exc:
        raise SmtpConfigError(str(exc)) from None
    try:
        device_id = str(await state.setdefault("device_id", new_device_id()))
        kept = await state.load()
        policy_key = kept.get("policy_key")
        http = EasHttp(
            endpoint(acc, kept),
            username=acc.username,
            credentials=creds,
            device_id=device_id,
            device_type=str(kept.get("device_type") or DEVICE_TYPE),
            ca_file=acc.ca_file,
            tls_fingerprint=acc.tls_fingerprint,
            allow_plain=acc.security == Security.NONE,
            policy_key=str(policy_key) if policy_key else None,
            timeout=timeout,
            keepalive=False,
        )
    except MailtuiError as exc:
        raise smtp_error(exc) from None
    try:
        info = await http.options()
    except MailtuiError as exc:
        await http.aclose()
        raise smtp_error(exc) from None
    if info.commands and "SendMail" not in info.commands:
        await http.aclose()
        raise SmtpConfigError(f"{http.host} does not offer sending mail over ActiveSync")
    return EasSubmission(http, info.commands, state)


def submission(acc: AccountConfig, state: AccountStateAccess) -> SubmissionFactory:
    """``KindSpec.submission`` of the exchange kind."""

    async def open_() -> Submission:
        return await open_submission(acc, state)

    return open_

"""The ActiveSync session under ``EasBackend``: the endpoint, the account's state, and
the one way every command is sent (``call``: provision again when the server asks, follow
a 451 redirect to the same host and remember it).

Account state (``StatefulBackend``; JSON, kept by the store)::

    device_id     made once (``http.new_device_id``), kept: the server keeps its sync
                  state and its approval of the device under it
    device_type   "mailtui"
    policy_key    the PolicyKey of the last Provision (None: the server has no policy)
    provisioned   Provision was done (with or without a policy)
    url           the address a 451 redirect gave, used instead of the configured one
    folders       the folder tree and its FolderSync key (``folders.FolderTree``)
    keys          each mail folder's Sync key as last committed (the same as the
                  folder's own state), so ops can be sent before the folder is pulled
    filters       the FilterType of each folder whose first sync is still stepping
                  (``pull.FILTER_STEPS``), so an op's Sync asks the same window

Everything in it is committed with the folder list (``take_account_state``) or with the
batch that changed it (``FolderBatch.account_state``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from mailtui import secrets
from mailtui.config import AccountConfig
from mailtui.errors import AuthError, ConfigError
from mailtui.models import Security
from mailtui.protocols.eas import provision
from mailtui.protocols.eas.folders import FolderTree
from mailtui.protocols.eas.http import EasHttp, Redirected, ServerInfo, new_device_id
from mailtui.protocols.eas.status import ProvisionRequired
from mailtui.protocols.net.credentials import credentials, once_more_if_refused
from mailtui.sync.contract import Capabilities

T = TypeVar("T")
DEVICE_TYPE = "mailtui"
PATH = "/Microsoft-Server-ActiveSync"


def default_url(account: AccountConfig) -> str:
    """``https://HOST/Microsoft-Server-ActiveSync`` (http with ``security = "none"``), the
    port written only when it is not the scheme's own."""
    plain = account.security == Security.NONE
    scheme, usual = ("http", 80) if plain else ("https", 443)
    port = "" if account.port in (usual, 0) else f":{account.port}"
    return f"{scheme}://{account.host}{port}{PATH}"


def capabilities_of(commands: frozenset[str]) -> Capabilities:
    """What the account can do, from OPTIONS' ``MS-ASProtocolCommands``."""
    return Capabilities(
        folders=True,
        server_move="MoveItems" in commands,
        flags=True,
        push="Ping" in commands,
        append=False,  # no APPEND nor COPY in ActiveSync (14.1; 16.x's drafts unused)
    )


class EasSession:
    """One account's endpoint and state; see the module docstring."""

    capabilities = Capabilities(
        folders=True, server_move=True, flags=True, push=True, append=False
    )

    def __init__(self, account: AccountConfig, *, timeout: float = 60.0) -> None:
        self.account = account
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self._committed = ""
        self.tree = FolderTree("0", {})
        self.keys: dict[str, str] = {}
        #: Each mail folder's FilterType while its first sync steps through them.
        self.filters: dict[str, str] = {}
        self._http: EasHttp | None = None
        self.info: ServerInfo | None = None

    # ------------------------------------------------------------------ state

    def restore(self, state: Mapping[str, Any]) -> None:
        self.state = copy.deepcopy(dict(state))
        self._committed = json.dumps(self.state, sort_keys=True)
        self.tree = FolderTree.load(self.state.get("folders"))
        self.keys = {str(k): str(v) for k, v in (self.state.get("keys") or {}).items()}
        self.filters = {str(k): str(v) for k, v in (self.state.get("filters") or {}).items()}
        if not self.state.get("device_id"):
            self.state["device_id"] = new_device_id()
            self.state["device_type"] = DEVICE_TYPE

    def current_state(self) -> dict[str, Any]:
        self.state["folders"] = self.tree.dump()
        self.state["keys"] = dict(self.keys)
        stepping = {k: v for k, v in self.filters.items() if v != "0"}
        if stepping:
            self.state["filters"] = stepping
        else:
            self.state.pop("filters", None)
        return copy.deepcopy(self.state)

    def take_account_state(self) -> dict[str, Any] | None:
        now = self.current_state()
        text = json.dumps(now, sort_keys=True)
        if text == self._committed:
            return None
        self._committed = text
        return now

    # ------------------------------------------------------------------ connection

    @property
    def commands(self) -> frozenset[str]:
        """The commands the server offers (OPTIONS)."""
        return self.info.commands if self.info is not None else frozenset()

    @property
    def http(self) -> EasHttp:
        if self._http is None:
            raise ConfigError("not connected")
        return self._http

    async def connect(self) -> None:
        if not self.state.get("device_id"):
            self.restore({})
        # A refused OAuth token is asked for anew once (the account's sign-in), as for
        # IMAP, POP3 and SMTP; OPTIONS carries the credentials, so it tells.
        self.info = await once_more_if_refused(self.account, self._open, (AuthError,))
        self.capabilities = capabilities_of(self.info.commands)
        if not self.state.get("provisioned"):
            await self._provision()

    async def _open(self, fresh: bool) -> ServerInfo:
        """A client for the account's endpoint with its credentials (a new token with
        ``fresh``), and the server's OPTIONS."""
        try:
            secret = await credentials(self.account, fresh=fresh)
        except secrets.SecretError as exc:
            raise AuthError(str(exc)) from None
        await self.close()
        url = self.state.get("url") or self.account.url or default_url(self.account)
        self._http = EasHttp(
            url,
            username=self.account.username,
            credentials=secret,
            device_id=self.state["device_id"],
            device_type=self.state.get("device_type") or DEVICE_TYPE,
            ca_file=self.account.ca_file,
            tls_fingerprint=self.account.tls_fingerprint,
            allow_plain=self.account.security == Security.NONE,
            policy_key=self.state.get("policy_key"),
            timeout=self.timeout,
        )
        return await self.call(self.http.options)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _provision(self) -> None:
        try:
            key = await provision.provision(self.http)
        except Redirected as exc:
            self._follow(exc)
            key = await provision.provision(self.http)
        self.state["policy_key"] = key
        self.state["provisioned"] = True

    def _follow(self, redirect: Redirected) -> None:
        if not redirect.same_host:
            raise ConfigError(
                f"the server moved this account to {redirect.location}, on another host; "
                "mailtui does not send the password there by itself: set url to it if "
                "you trust it"
            )
        self.state["url"] = redirect.location
        self.http.url = redirect.location

    async def call(self, command: Callable[[], Awaitable[T]]) -> T:
        """Runs ``command`` (a request and the reading of its answer): once more after
        provisioning when the server asks for it (HTTP 449, status 140-144), and after a
        451 redirect to the same host (the new address is kept)."""
        for attempt in range(3):
            try:
                return await command()
            except ProvisionRequired:
                if attempt == 2:
                    raise
                await self._provision()
            except Redirected as exc:
                if attempt == 2:
                    raise ConfigError(str(exc)) from None
                self._follow(exc)
        raise AssertionError("unreachable")

"""SASL client responses (RFC 4616 PLAIN, LOGIN, XOAUTH2, RFC 7628 OAUTHBEARER), the same
for IMAP AUTHENTICATE, SMTP AUTH and POP3 AUTH.

Pure functions. ``responses`` gives the *unencoded* client responses of a mechanism, one
per server challenge; the protocol base64-encodes each (``encode``; an empty initial
response is ``=``, RFC 4954 / RFC 5034 / IMAP SASL-IR). After the last response, a further
challenge is an error report: OAuth servers send JSON there (``oauth_error_status``) and
wait for the client's ``error_reply`` before their final refusal.

The OAuth access token comes from ``mailtui.protocols.net.credentials`` (``token_command``
or the keyring; the OAuth sign-in flow itself is another issue); these only spell it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

#: Mechanisms for an OAuth access token, preferred first: OAUTHBEARER is the standard
#: (RFC 7628), XOAUTH2 its older Google/Microsoft twin.
OAUTH_MECHANISMS = ("OAUTHBEARER", "XOAUTH2")
#: Mechanisms for a password, preferred first.
PASSWORD_MECHANISMS = ("PLAIN", "LOGIN")


def plain(username: str, password: str, authzid: str = "") -> bytes:
    """RFC 4616: ``authzid NUL authcid NUL passwd``."""
    return f"{authzid}\0{username}\0{password}".encode()


def login(username: str, password: str) -> list[bytes]:
    """LOGIN (draft-murchison-sasl-login): the user name, then the password, each the
    answer to one challenge (no initial response)."""
    return [username.encode(), password.encode()]


def xoauth2(username: str, token: str) -> bytes:
    """Google/Microsoft XOAUTH2: ``user=U^Aauth=Bearer T^A^A``."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(username: str, token: str, host: str, port: int) -> bytes:
    """RFC 7628 OAUTHBEARER: a GS2 header naming the user, then key=value pairs."""
    user = username.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


def pick(offered: Iterable[str], *, oauth: bool) -> str | None:
    """The mechanism to use among those the server ``offered`` (any case), for an OAuth
    token or a password; None when none of ours is offered."""
    have = {m.upper() for m in offered}
    wanted = OAUTH_MECHANISMS if oauth else PASSWORD_MECHANISMS
    return next((m for m in wanted if m in have), None)


def responses(
    mechanism: str, username: str, secret: str, host: str = "", port: int = 0
) -> list[bytes]:
    """The client responses of ``mechanism`` (unencoded), the first one the initial
    response for every mechanism but LOGIN. ``secret`` is the password or the access
    token; ``host`` and ``port`` (the server's) go into OAUTHBEARER only."""
    name = mechanism.upper()
    if name == "PLAIN":
        return [plain(username, secret)]
    if name == "LOGIN":
        return login(username, secret)
    if name == "XOAUTH2":
        return [xoauth2(username, secret)]
    if name == "OAUTHBEARER":
        return [oauthbearer(username, secret, host, port)]
    raise ValueError(f"unknown SASL mechanism {mechanism!r}")


def has_initial_response(mechanism: str) -> bool:
    """Whether the first response goes with the command (all but LOGIN)."""
    return mechanism.upper() != "LOGIN"


def error_reply(mechanism: str) -> bytes | None:
    """What answers an error challenge after the last response, None to cancel (``*``).
    OAUTHBEARER: ``%x01`` (RFC 7628 3.2.3); XOAUTH2: an empty response (Google's
    documentation)."""
    return {"OAUTHBEARER": b"\x01", "XOAUTH2": b""}.get(mechanism.upper())


def encode(response: bytes, initial: bool = False) -> bytes:
    """A response as it goes on the wire: base64; an empty *initial* response is ``=``
    (an empty line would mean "no initial response")."""
    encoded = base64.b64encode(response)
    return encoded or (b"=" if initial else b"")


def oauth_error_status(challenge: bytes) -> str:
    """The ``status`` of an OAuth error challenge (base64 JSON, RFC 7628 / XOAUTH2); ""
    when it has none or is not that."""
    try:
        data = json.loads(base64.b64decode(challenge, validate=True))
    except (binascii.Error, ValueError):
        return ""
    status = data.get("status") if isinstance(data, dict) else None
    text = str(status) if status is not None else ""
    return text if text.isprintable() and len(text) < 100 else ""

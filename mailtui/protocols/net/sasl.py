"""SASL initial responses for AUTHENTICATE (RFC 4616 PLAIN, LOGIN, XOAUTH2, RFC 7628).

Pure functions returning the *unencoded* client response; the connection base64-encodes
it. The OAuth access token comes from ``mailtui.secrets.access_token`` (``token_command``
or the keyring; the OAuth sign-in flow itself is another issue); these only spell it.
"""

from __future__ import annotations


def plain(username: str, password: str, authzid: str = "") -> bytes:
    return f"{authzid}\0{username}\0{password}".encode()


def xoauth2(username: str, token: str) -> bytes:
    """Google/Microsoft XOAUTH2: ``user=U^Aauth=Bearer T^A^A``."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(username: str, token: str, host: str, port: int) -> bytes:
    """RFC 7628 OAUTHBEARER: a GS2 header naming the user, then key=value pairs."""
    user = username.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()

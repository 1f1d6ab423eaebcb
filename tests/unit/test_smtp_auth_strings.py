"""SASL initial responses for SMTP AUTH (ready for the OAuth issue), and no secret in repr."""

from __future__ import annotations

import base64

from mailtui.protocols.net import sasl
from mailtui.protocols.smtp import Credentials


def test_xoauth2() -> None:
    raw = base64.b64decode(sasl.encode(sasl.xoauth2("ann@example.org", "tok")))
    assert raw == b"user=ann@example.org\x01auth=Bearer tok\x01\x01"


def test_oauthbearer_rfc7628() -> None:
    raw = base64.b64decode(
        sasl.encode(sasl.oauthbearer("a=b,c@example.org", "tok", "smtp.example.org", 587))
    )
    assert raw == (
        b"n,a=a=3Db=2Cc@example.org,\x01host=smtp.example.org\x01port=587\x01"
        b"auth=Bearer tok\x01\x01"
    )


def test_credentials_repr_hides_secrets() -> None:
    assert "hunter2" not in repr(Credentials(password="hunter2"))
    assert "tok" not in repr(Credentials(oauth_token="tok"))
    assert repr(Credentials()) == "Credentials(<none>)"

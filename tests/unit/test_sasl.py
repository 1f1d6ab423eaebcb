"""SASL client responses (mailtui/protocols/net/sasl.py), checked against the examples
of RFC 4616 (PLAIN), RFC 7628 (OAUTHBEARER) and Google's XOAUTH2 documentation, as the
base64 that goes on the wire."""

from __future__ import annotations

import base64

import pytest

from mailtui.protocols.net import sasl

# RFC 7628 section 4.1 and Google's "OAuth 2.0 Mechanism" page, token included.
RFC7628_TOKEN = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
GOOGLE_TOKEN = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"


@pytest.mark.parametrize(
    ("mechanism", "args", "wire"),
    [
        # RFC 4616 section 4: "\0tim\0tanstaaftanstaaf".
        ("PLAIN", ("tim", "tanstaaftanstaaf"), [b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm"]),
        # LOGIN: the user name and the password, one per challenge.
        ("login", ("tim", "secret"), [b"dGlt", b"c2VjcmV0"]),
        (
            "XOAUTH2",
            ("someuser@example.com", GOOGLE_TOKEN),
            [
                b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52"
                b"YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
            ],
        ),
        (
            "OAUTHBEARER",
            ("user@example.com", RFC7628_TOKEN, "server.example.com", 143),
            [
                b"bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1"
                b"dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
            ],
        ),
    ],
)
def test_responses_match_the_published_examples(
    mechanism: str, args: tuple[object, ...], wire: list[bytes]
) -> None:
    got = sasl.responses(mechanism, *args)  # type: ignore[arg-type]
    assert [sasl.encode(r) for r in got] == wire


@pytest.mark.parametrize(
    ("authzid", "username", "password", "raw"),
    [
        ("", "tim", "tanstaaftanstaaf", b"\0tim\0tanstaaftanstaaf"),
        ("Ursel", "Kurt", "xipj3plmq", b"Ursel\0Kurt\0xipj3plmq"),  # RFC 4616 section 4
        ("", "jürgen", "pässword", "\0jürgen\0pässword".encode()),  # UTF-8, as RFC 4616 says
    ],
)
def test_plain(authzid: str, username: str, password: str, raw: bytes) -> None:
    assert sasl.plain(username, password, authzid) == raw


@pytest.mark.parametrize(
    ("username", "gs2_user"),
    [
        ("ann@example.org", b"ann@example.org"),
        ("a=b,c@example.org", b"a=3Db=2Cc@example.org"),  # RFC 5801 saslname escaping
    ],
)
def test_oauthbearer_escapes_the_user_in_the_gs2_header(username: str, gs2_user: bytes) -> None:
    raw = sasl.oauthbearer(username, "tok", "imap.example.org", 993)
    assert raw == (
        b"n,a=" + gs2_user + b",\x01host=imap.example.org\x01port=993\x01auth=Bearer tok\x01\x01"
    )


@pytest.mark.parametrize(
    ("offered", "oauth", "chosen"),
    [
        ({"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"}, True, "OAUTHBEARER"),
        ({"plain", "xoauth2"}, True, "XOAUTH2"),
        ({"PLAIN", "LOGIN"}, True, None),
        ({"LOGIN", "PLAIN", "OAUTHBEARER"}, False, "PLAIN"),
        ({"login", "CRAM-MD5"}, False, "LOGIN"),
        ({"CRAM-MD5"}, False, None),
        (set(), False, None),
    ],
)
def test_pick_prefers_the_standard_mechanism(
    offered: set[str], oauth: bool, chosen: str | None
) -> None:
    assert sasl.pick(offered, oauth=oauth) == chosen


@pytest.mark.parametrize(
    ("mechanism", "initial", "reply"),
    [
        ("PLAIN", True, None),
        ("LOGIN", False, None),
        ("XOAUTH2", True, b""),  # Google: an empty response ends the exchange
        ("OAUTHBEARER", True, b"\x01"),  # RFC 7628 3.2.3
    ],
)
def test_initial_response_and_error_reply(
    mechanism: str, initial: bool, reply: bytes | None
) -> None:
    assert sasl.has_initial_response(mechanism) is initial
    assert sasl.error_reply(mechanism) == reply


def test_unknown_mechanism_is_refused() -> None:
    with pytest.raises(ValueError, match="CRAM-MD5"):
        sasl.responses("CRAM-MD5", "u", "p")


@pytest.mark.parametrize(
    ("response", "initial", "wire"),
    [
        (b"", True, b"="),  # an empty initial response is "=", not an empty line
        (b"", False, b""),
        (b"\x01", False, b"AQ=="),
    ],
)
def test_encode(response: bytes, initial: bool, wire: bytes) -> None:
    assert sasl.encode(response, initial=initial) == wire


@pytest.mark.parametrize(
    ("challenge", "status"),
    [
        # Google's XOAUTH2 error challenge.
        (
            b"eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9t"
            b"YWlsLmdvb2dsZS5jb20vIn0K",
            "401",
        ),
        (base64.b64encode(b'{"status":"invalid_token","scope":"mail"}'), "invalid_token"),
        (base64.b64encode(b'{"scope":"mail"}'), ""),
        (base64.b64encode(b'["status"]'), ""),
        (base64.b64encode(b'{"status":"bad\\u001b[2J"}'), ""),  # not shown: not printable
        (b"not base64!", ""),
        (base64.b64encode(b"not json"), ""),
    ],
)
def test_oauth_error_status(challenge: bytes, status: str) -> None:
    assert sasl.oauth_error_status(challenge) == status

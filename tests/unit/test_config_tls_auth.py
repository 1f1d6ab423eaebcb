"""Config: tls_fingerprint (pinning) and auth = "password" | "oauth2" with token_command;
what the [smtp] table inherits. One clear line per problem, naming the key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mailtui.config import parse, parse_fingerprint
from mailtui.errors import ConfigError
from mailtui.protocols.net import tls
from mailtui.sync.outbox import smtp_settings

HEX = hashlib.sha256(b"a certificate").hexdigest()
COLONS = ":".join(HEX[i : i + 2] for i in range(0, 64, 2))
ACC = '[accounts.w]\nkind = "imap"\nemail = "a@b.c"\nhost = "x"\n'
SMTP = '[accounts.w.smtp]\nhost = "smtp.x"\n'
PATH = Path("/home/u/.config/mailtui/config.toml")


@pytest.mark.parametrize(
    "written",
    [
        f"sha256:{COLONS.upper()}",
        f"SHA256:{COLONS}",
        f"sha-256:{HEX.upper()}",
        f"sha256:{HEX}",
        COLONS.upper(),
        HEX,
        f"  sha256:{COLONS}  ",
    ],
)
def test_fingerprint_forms_all_mean_the_same(written: str) -> None:
    assert parse_fingerprint(written) == HEX
    acc = parse(ACC + f'tls_fingerprint = "{written}"\n').account("w")
    assert acc.tls_fingerprint == HEX and acc.ca_file is None


def test_fingerprint_is_shown_as_openssl_prints_it() -> None:
    shown = tls.show_fingerprint(HEX)
    assert shown == "sha256:" + COLONS.upper()
    assert parse_fingerprint(shown) == HEX  # what the error shows can be pasted back


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (f'"sha1:{HEX[:40]}"', "sha1 fingerprints are not accepted, only sha256"),
        (f'"md5:{HEX[:32]}"', "md5 fingerprints are not accepted"),
        (f'"sha512:{HEX}{HEX}"', "sha512 fingerprints are not accepted"),
        (f'"{HEX[:40]}"', "that is a SHA-1 fingerprint (40 hex digits), not SHA-256"),
        (f'"{HEX[:62]}"', "a SHA-256 fingerprint has 64 hex digits, this one 62"),
        (f'"{HEX}00"', "this one 66"),
        (f'"sha256:{HEX[:63]}g"', "only hex digits"),
        (f'"sha256:{COLONS[:-2]}:0f0"', "colons must separate pairs of hex digits"),
        ('"sha256:"', "only hex digits"),
        ("42", "expected a SHA-256 certificate fingerprint"),
    ],
)
def test_bad_fingerprints_give_one_line_naming_the_key(value: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(ACC + f"tls_fingerprint = {value}\n", PATH)
    message = str(info.value)
    assert message.startswith(f"{PATH}: [accounts.w] tls_fingerprint: ")
    assert why in message
    assert "sha256:AB:CD" in message  # what is expected
    assert "\n" not in message


def test_fingerprint_with_ca_file_or_without_tls_is_refused(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    with pytest.raises(ConfigError, match="set either ca_file or tls_fingerprint, not both"):
        parse(ACC + f'ca_file = "{ca}"\ntls_fingerprint = "{HEX}"\n')
    with pytest.raises(ConfigError, match='tls_fingerprint: has no effect with security = "none"'):
        parse(ACC + f'security = "none"\ntls_fingerprint = "{HEX}"\n')


def test_smtp_uses_the_accounts_trust_unless_it_names_its_own(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    other = hashlib.sha256(b"another").hexdigest()
    inherited = parse(ACC + f'tls_fingerprint = "{HEX}"\n' + SMTP).account("w")
    settings = smtp_settings(inherited)
    assert (settings.tls_fingerprint, settings.ca_file) == (HEX, None)

    own_pin = parse(ACC + f'tls_fingerprint = "{HEX}"\n' + SMTP + f'tls_fingerprint = "{other}"\n')
    assert smtp_settings(own_pin.account("w")).tls_fingerprint == other

    own_ca = parse(ACC + f'tls_fingerprint = "{HEX}"\n' + SMTP + f'ca_file = "{ca}"\n')
    settings = smtp_settings(own_ca.account("w"))
    assert (settings.tls_fingerprint, settings.ca_file) == (None, ca)

    with pytest.raises(ConfigError, match=r"\[accounts.w.smtp\] tls_fingerprint: sha1"):
        parse(ACC + SMTP + f'tls_fingerprint = "sha1:{HEX[:40]}"\n')


def test_auth_defaults_to_password_and_oauth2_takes_a_token_command() -> None:
    acc = parse(ACC).account("w")
    assert (acc.auth, acc.token_command) == ("password", None)
    acc = parse(ACC + 'auth = "oauth2"\ntoken_command = "oama access a@b.c"\n' + SMTP).account("w")
    assert (acc.auth, acc.token_command) == ("oauth2", "oama access a@b.c")
    assert acc.smtp is not None and acc.smtp.auth is None  # the account's


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (ACC + 'auth = "xoauth2"\n', 'auth: expected one of "password", "oauth2", got "xoauth2"'),
        (ACC + 'token_command = "x"\n', 'token_command: only used with auth = "oauth2"'),
        (
            ACC + 'auth = "oauth2"\npassword_command = "pass x"\n',
            'password_command: with auth = "oauth2" mailtui needs an access token',
        ),
        (
            ACC + 'auth = "oauth2"\n' + SMTP + 'password_command = "pass x"\n',
            '[accounts.w.smtp] password_command: with auth = "oauth2"',
        ),
        (ACC + SMTP + 'token_command = "x"\n', "[accounts.w.smtp] token_command: only used"),
        (ACC + 'oauth_token = "abc"\n', "secrets do not belong in the config file"),
    ],
)
def test_auth_problems_give_one_line(doc: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(doc, PATH)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)

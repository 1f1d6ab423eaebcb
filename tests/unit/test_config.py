"""Config: typed, validated, one clear line per problem, never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.accounts import parse_config
from mailtui.config import load, parse
from mailtui.errors import ConfigError
from mailtui.models import AccountKind

GOOD = """
[accounts.work]
kind = "imap"
email = "me@example.com"
host = "imap.example.com"
password_command = "pass show mail/work"
[accounts.work.smtp]
host = "smtp.example.com"
port = 587
security = "starttls"

[accounts.home]
kind = "pop3"
email = "me@home.example"
host = "pop.home.example"
security = "starttls"
leave_on_server = false

[ui]
theme = "nord"
keys = { quit = "ctrl+q" }
"""


def test_good_config_is_typed_with_defaults() -> None:
    cfg = parse(GOOD)
    work = cfg.account("work")
    assert work.kind is AccountKind.IMAP
    assert work.username == "me@example.com"  # defaults to the email
    assert (work.port, work.security) == (993, "tls")
    assert work.smtp is not None and work.smtp.port == 587
    assert work.smtp.password_command == "pass show mail/work"  # inherited
    home = cfg.account("home")
    assert (home.port, home.leave_on_server) == (110, False)
    assert cfg.ui.theme == "nord" and cfg.ui.keys == {"quit": "ctrl+q"}


ACC = '[accounts.w]\nkind="imap"\nemail="a@b.c"\nhost="x"\n'
EXCH = '[accounts.w]\nkind="exchange"\nemail="a@b.c"\nhost="x"\n'


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (ACC + 'hots="x"', "unknown key 'hots'; did you mean \"host\"?"),
        (ACC + 'port="imap"', 'port: expected a whole number from 1 to 65535, got "imap"'),
        (ACC + "port=70000", "port: expected a whole number from 1 to 65535, got 70000"),
        (
            '[accounts.w]\nkind="imapx"\nemail="a@b.c"\nhost="x"',
            'kind: expected one of "imap", "pop3", "exchange", got "imapx"',
        ),
        ('[accounts.w]\nkind="imap"\nhost="x"', "email: missing; expected a text value"),
        (
            '[accounts.w]\nkind="imap"\nemail="nobody"\nhost="x"',
            'email: expected an email address, got "nobody"',
        ),
        (
            ACC + 'security="ssl"',
            'security: expected one of "tls", "starttls", "none", got "ssl"',
        ),
        (ACC + 'password="hunter2"', "password: secrets do not belong in the config file"),
        (EXCH + '[accounts.w.smtp]\nhost="y"', "Exchange accounts send through the server"),
        ('[accounts."bad name"]\nkind="imap"', "account names use letters"),
        ("[accounts.w\nkind=1", "not valid TOML"),
        ('[ui]\ntheme="x"\ncolour="red"', "unknown key 'colour'"),
        ("[ui.keys]\nquit=3", "[ui.keys] quit: expected a key name"),
        ("acounts = 1", "unknown key 'acounts'; did you mean \"accounts\"?"),
        (ACC + 'leave_on_server="no"', "leave_on_server: expected true or false"),
    ],
)
def test_problems_give_one_clear_line(doc: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(doc, Path("/home/u/.config/mailtui/config.toml"))
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert message.startswith("/home/u/.config/mailtui/config.toml")


def test_secret_value_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        parse(ACC + 'password="hunter2"')
    assert "hunter2" not in str(info.value)


def test_missing_file_is_empty_config(tmp_path: Path) -> None:
    cfg = load(tmp_path / "nope.toml")
    assert cfg.accounts == ()


def test_unreadable_and_binary_files(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(bad)


def test_unknown_account_lists_known() -> None:
    with pytest.raises(ConfigError, match=r"no account named 'x' \(accounts: work, home\)"):
        parse(GOOD).account("x")


def test_ca_file_must_exist(tmp_path: Path) -> None:
    doc = ACC + f'ca_file="{tmp_path}/none.pem"'
    with pytest.raises(ConfigError, match="ca_file: no such file"):
        parse(doc)
    (tmp_path / "ca.pem").write_text("x")
    ok = parse(doc.replace("none.pem", "ca.pem"))
    assert ok.account("w").ca_file == tmp_path / "ca.pem"


def test_ui_bidi_bell_and_notify() -> None:
    assert parse("").ui.bidi == "auto"
    assert parse("").ui.bell is False and parse("").ui.notify is True
    ui = parse('[ui]\nbidi = "off"\nbell = true\nnotify = false').ui
    assert (ui.bidi, ui.bell, ui.notify) == ("off", True, False)
    with pytest.raises(ConfigError, match='bidi: expected one of "auto", "on", "off"'):
        parse('[ui]\nbidi = "rtl"')
    with pytest.raises(ConfigError, match="bell: expected true or false"):
        parse('[ui]\nbell = "yes"')


def test_identities_and_copy_to_sent() -> None:
    work = parse(GOOD).account("work")
    assert work.identities == ()
    assert work.smtp is not None and work.smtp.copy_to_sent is True
    doc = GOOD.replace(
        'password_command = "pass show mail/work"\n',
        'password_command = "pass show mail/work"\n'
        'identities = ["Ann Smith <ann@work.example>", "ann@home.example"]\n',
    ).replace('security = "starttls"\n\n[accounts.home]', 'security = "starttls"\n'
              'copy_to_sent = false\n\n[accounts.home]')
    work = parse(doc).account("work")
    assert work.identities == (("Ann Smith", "ann@work.example"), ("", "ann@home.example"))
    assert work.smtp is not None and work.smtp.copy_to_sent is False


@pytest.mark.parametrize("value", ['"ann@x.org"', '["not an address"]', "[1]"])
def test_bad_identities_give_one_line(value: str) -> None:
    doc = f'[accounts.w]\nkind = "imap"\nemail = "a@x.org"\nhost = "h"\nidentities = {value}\n'
    with pytest.raises(ConfigError, match=r"^\[accounts.w\] identities: expected a list"):
        parse(doc)


def test_exchange_url() -> None:
    """``url``: the ActiveSync address of an Exchange account (SOGo's differs from the
    default); other kinds have none, and it is an http(s) address."""
    base = '[accounts.x]\nkind = "{kind}"\nemail = "me@example.com"\nhost = "h.example.com"\n'
    sogo = "https://h.example.com/SOGo/Microsoft-Server-ActiveSync"
    acc = parse(base.format(kind="exchange") + f'url = "{sogo}"\n').account("x")
    assert acc.url == sogo
    assert parse(base.format(kind="exchange")).account("x").url is None
    with pytest.raises(ConfigError, match="only Exchange accounts have an ActiveSync url"):
        parse(base.format(kind="imap") + f'url = "{sogo}"\n')
    with pytest.raises(ConfigError, match="url: 'h.example.com/x' is not an http"):
        parse_config(base.format(kind="exchange") + 'url = "h.example.com/x"\n')

"""Account kinds describe themselves: every option a setup wizard shows is a key the
config reader knows, with the default, choices and bounds the reader applies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from mailtui.accounts import check_config, parse_config
from mailtui.config import parse
from mailtui.config.oauth import KEYS as _OAUTH_KEYS
from mailtui.config.reader import _ACCOUNT_KEYS, _SMTP_KEYS
from mailtui.errors import ConfigError
from mailtui.models import AccountKind
from mailtui.protocols import kinds
from mailtui.sync.contract import KindSpec, OptionType, OptionValue, Sending

CONFIGURABLE = [spec.name for spec in kinds.configurable()]
REQUIRED: dict[str, OptionValue] = {
    "email": "ann@example.org",
    "host": "mail.example.org",
    "smtp.host": "smtp.example.org",
}
PATH = Path("/home/u/.config/mailtui/config.toml")


def toml_value(value: OptionValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)  # a TOML basic string for the plain text used here


def document(kind: str, values: Mapping[str, OptionValue]) -> str:
    """The account ``w`` of ``kind`` with ``values`` by option name (``smtp.x`` in its
    ``[accounts.w.smtp]`` table, ``oauth.x`` in ``[accounts.w.oauth]``)."""
    own = [f'kind = "{kind}"'] + [
        f"{k} = {toml_value(v)}" for k, v in values.items() if "." not in k
    ]
    text = "[accounts.w]\n" + "\n".join(own) + "\n"
    for table in ("smtp", "oauth"):
        lines = [
            f"{k.partition('.')[2]} = {toml_value(v)}"
            for k, v in values.items()
            if k.startswith(table + ".")
        ]
        if lines:
            text += f"[accounts.w.{table}]\n" + "\n".join(lines) + "\n"
    return text


def with_oauth(name: str, values: dict[str, OptionValue]) -> dict[str, OptionValue]:
    """``values`` and what an ``oauth.*`` option needs beside it."""
    if not name.startswith("oauth."):
        return values
    return {
        "auth": "oauth2",
        "oauth.provider": "microsoft",
        "oauth.client_id": "my-own-id",
        "oauth.client_secret": "not-so-secret",
        **values,
    }


def required(spec: KindSpec) -> dict[str, OptionValue]:
    names = {o.name for o in spec.options}
    return {k: v for k, v in REQUIRED.items() if k in names}


def test_the_registry_lists_every_account_kind() -> None:
    assert list(kinds.KINDS) == ["imap", "pop3", "exchange", "demo"]
    assert set(kinds.KINDS) == {k.value for k in AccountKind}
    assert CONFIGURABLE == ["imap", "pop3", "exchange"]
    assert kinds.kind(AccountKind.POP3) is kinds.KINDS["pop3"]
    for spec in kinds.KINDS.values():
        assert spec.label and spec.summary and "\n" not in spec.summary


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as info:
        kinds.kind("imapx")
    assert str(info.value) == "unknown account kind 'imapx' (known: imap, pop3, exchange, demo)"


@pytest.mark.parametrize("name", list(kinds.KINDS))
def test_options_are_well_formed(name: str) -> None:
    spec = kinds.KINDS[name]
    names = [o.name for o in spec.options]
    assert len(names) == len(set(names)), "an option listed twice"
    seen: dict[str, OptionType] = {}
    for option in spec.options:
        table, _, key = option.name.rpartition(".")
        known = {"smtp": _SMTP_KEYS, "oauth": _OAUTH_KEYS}.get(table, _ACCOUNT_KEYS)
        assert key in known, option.name
        assert table in ("", "smtp", "oauth"), option.name
        assert key != "kind", "kind is chosen before the options"
        assert option.help and "\n" not in option.help and len(option.help) <= 100
        assert not (option.required and option.default is not None), option.name
        if option.type is OptionType.CHOICE:
            assert option.choices, option.name
            assert option.default is None or option.default in option.choices
        else:
            assert not option.choices, option.name
        if option.type is OptionType.INTEGER:
            assert option.bounds is not None, option.name
            lo, hi = option.bounds
            assert option.default is None or lo <= int(option.default) <= hi
        else:
            assert option.bounds is None, option.name
        if option.follows is not None:
            assert option.follows in seen, f"{option.name} follows a later option"
            assert option.default is None, option.name
            leader = spec.option(option.follows)
            assert set(option.defaults) <= set(leader.choices), option.name
        else:
            assert not option.defaults, option.name
        seen[option.name] = option.type
    if spec.configurable:
        assert {"email", "host"} <= {o.name for o in spec.options if o.required}
    assert spec.sending is Sending.SMTP or not any(n.startswith("smtp.") for n in names)


@pytest.mark.parametrize("name", CONFIGURABLE)
def test_defaults_are_what_the_reader_applies(name: str) -> None:
    """Every default written out explicitly gives the same account as leaving it out,
    for each value of an option other defaults follow (port by security)."""
    spec = kinds.KINDS[name]
    given = required(spec)
    leaders = {o.follows for o in spec.options if o.follows and o.defaults}
    variants: list[dict[str, OptionValue]] = [dict(given)]
    for leader in sorted(str(x) for x in leaders):
        variants += [{**given, leader: choice} for choice in spec.option(leader).choices]
    for values in variants:
        implicit = parse(document(name, values)).account("w")
        full = spec.defaults(values)
        assert set(full) > set(values)
        explicit = parse(document(name, full)).account("w")
        assert explicit == implicit, values


@pytest.mark.parametrize("name", CONFIGURABLE)
def test_choices_and_bounds_are_the_readers(name: str) -> None:
    spec = kinds.KINDS[name]
    base = required(spec)
    for option in spec.options:
        if option.type is OptionType.CHOICE:
            for choice in option.choices:
                values = with_oauth(option.name, {**base, option.name: choice})
                if choice == "oauth2":
                    values.pop("password_command", None)
                parse(document(name, values))
            with pytest.raises(ConfigError, match=option.name.rpartition(".")[2]):
                bad_choice = with_oauth(option.name, {**base, option.name: "no-such-choice"})
                parse(document(name, bad_choice))
        if option.bounds is not None:
            lo, hi = option.bounds
            for good in (lo, hi):
                parse(document(name, with_oauth(option.name, {**base, option.name: good})))
            for bad in (lo - 1, hi + 1):
                with pytest.raises(ConfigError, match=f"from {lo} to {hi}"):
                    parse(document(name, with_oauth(option.name, {**base, option.name: bad})))


def test_port_defaults_follow_the_security_mode() -> None:
    imap = kinds.KINDS["imap"]
    assert imap.defaults({"security": "starttls"})["port"] == 143
    assert imap.defaults({"security": "tls", "smtp.security": "tls"})["smtp.port"] == 465
    assert imap.defaults({"email": "a@b.c"})["smtp.username"] == "a@b.c"
    pop3 = kinds.KINDS["pop3"]
    assert pop3.defaults({})["port"] == 995 and pop3.defaults({})["leave_on_server"] is True
    assert kinds.KINDS["exchange"].defaults({})["port"] == 443


def test_how_each_kind_sends() -> None:
    assert kinds.KINDS["imap"].sending is Sending.SMTP and kinds.KINDS["imap"].files_sent
    # POP3 files sent mail in its local Sent folder (Capabilities.local: the store does).
    assert kinds.KINDS["pop3"].sending is Sending.SMTP and kinds.KINDS["pop3"].files_sent
    assert kinds.KINDS["exchange"].sending is Sending.BACKEND
    assert kinds.KINDS["demo"].sending is Sending.NONE
    assert kinds.KINDS["imap"].build is not None
    assert kinds.KINDS["pop3"].build is not None and kinds.KINDS["exchange"].build is None


EXCH = '[accounts.w]\nkind = "exchange"\nemail = "a@b.c"\nhost = "x"\n'


def test_exchange_refuses_an_smtp_table_naming_file_and_key() -> None:
    doc = EXCH + '[accounts.w.smtp]\nhost = "y"\n'
    parse(doc, PATH)  # the reader alone: the table is well-formed
    with pytest.raises(ConfigError) as info:
        parse_config(doc, PATH)
    assert str(info.value) == (
        f"{PATH}: [accounts.w] smtp: Exchange accounts send through the server itself"
    )
    assert parse_config(EXCH, PATH).account("w").kind is AccountKind.EXCHANGE


def test_imap_and_pop3_take_an_smtp_table() -> None:
    for kind in ("imap", "pop3"):
        doc = document(kind, REQUIRED)
        assert parse_config(doc).account("w").smtp is not None


def test_a_kind_missing_from_the_registry_is_refused() -> None:
    config = parse(document("imap", {"email": "a@b.c", "host": "x"}), PATH)
    without_imap = {k: v for k, v in kinds.KINDS.items() if k != "imap"}
    with pytest.raises(ConfigError, match="account 'w': unknown account kind 'imap'"):
        check_config(config, without_imap)


@pytest.mark.parametrize("name", ["imap", "pop3"])
def test_a_relay_without_login_is_offered_and_its_defaults_hold(name: str) -> None:
    spec = kinds.KINDS[name]
    assert "none" in spec.option("smtp.auth").choices  # the setup wizard offers it
    values = {
        **required(spec),
        "password_command": "pass show mail",
        "smtp.host": "relay.example.org",
        "smtp.auth": "none",
    }
    full = spec.defaults(values)
    # No login name and no password command are filled in: a relay needs none, and a
    # password command beside auth = "none" is refused.
    assert "smtp.username" not in full and "smtp.password_command" not in full
    explicit = parse(document(name, full)).account("w")
    assert explicit == parse(document(name, values)).account("w")
    assert explicit.smtp is not None and explicit.smtp.password_command is None

"""Writing config.toml: accounts added, changed and removed with the rest of the file as
the user wrote it; never a secret; nothing written unless the result is valid."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailtui import accounts
from mailtui.config import edit, load
from mailtui.errors import ConfigError
from mailtui.models import AccountKind

SRC = """\
# My mail accounts
[accounts.work]   # the office
kind = "imap"
email = "me@example.com"  # my address
host = "imap.example.com"
port = 143  # plain, inside the VPN
security = "starttls"

[accounts.work.smtp]
host = "smtp.example.com"

# Looks
[ui]
theme = "nord"   # dark
"""

HOME = {
    "email": "me@home.example",
    "host": "pop.home.example",
    "leave_on_server": False,
    "smtp.host": "smtp.home.example",
}

WITH_HOME = SRC.replace(
    "# Looks\n",
    """\
[accounts.home]
kind = "pop3"
email = "me@home.example"
host = "pop.home.example"
leave_on_server = false

[accounts.home.smtp]
host = "smtp.home.example"

# Looks
""",
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(SRC, encoding="utf-8")
    p.chmod(0o640)
    return p


def files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def test_a_changed_value_changes_that_value_only(path: Path) -> None:
    config = edit.change_account(path, "work", {"port": 1143})
    assert path.read_text() == SRC.replace("port = 143 ", "port = 1143 ")
    assert config.account("work").port == 1143
    assert load(path) == config


def test_an_account_is_added_after_the_others(path: Path) -> None:
    config = edit.add_account(path, "home", "pop3", {**HOME, "ca_file": None})
    assert path.read_text() == WITH_HOME
    home = config.account("home")
    assert home.kind is AccountKind.POP3 and not home.leave_on_server and home.port == 995
    assert [a.name for a in config.accounts] == ["work", "home"]


def test_an_account_is_removed_with_its_tables_and_nothing_else(path: Path) -> None:
    path.write_text(WITH_HOME)
    edit.remove_account(path, "home")
    assert path.read_text() == SRC
    config = edit.remove_account(path, "work")
    assert path.read_text() == '# My mail accounts\n# Looks\n[ui]\ntheme = "nord"   # dark\n'
    assert config.accounts == () and config.ui.theme == "nord"


def test_keys_are_added_and_removed_and_an_empty_smtp_table_goes(path: Path) -> None:
    edit.change_account(
        path, "work", {"display_name": "Ann", "security": None, "port": None, "smtp.port": 465}
    )
    text = path.read_text()
    assert 'display_name = "Ann"' in text and "port = 465" in text
    assert "security" not in text and "port = 143" not in text
    assert load(path).account("work").port == 993  # the default again
    edit.change_account(path, "work", {"smtp.host": None, "smtp.port": None})
    assert "[accounts.work.smtp]" not in path.read_text()
    assert path.read_text().endswith('\n# Looks\n[ui]\ntheme = "nord"   # dark\n')
    assert load(path).account("work").smtp is None


def test_a_new_file_and_its_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "mailtui" / "config.toml"
    config = edit.add_account(path, "w", "imap", {"email": "a@b.c", "host": "h"})
    assert path.read_text() == '[accounts.w]\nkind = "imap"\nemail = "a@b.c"\nhost = "h"\n'
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert config.account("w").username == "a@b.c"


def test_the_file_keeps_its_mode_and_no_temporary_file_stays(path: Path) -> None:
    edit.change_account(path, "work", {"body_days": 7})
    assert path.stat().st_mode & 0o777 == 0o640
    assert files(path.parent) == ["config.toml"]


def test_a_linked_config_is_written_where_the_link_points(tmp_path: Path, path: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(path)
    edit.change_account(link, "work", {"body_days": 7})
    assert link.is_symlink() and "body_days = 7" in path.read_text()


@pytest.mark.parametrize("key", ["password", "smtp.password", "token", "app_password"])
def test_a_secret_is_never_written(path: Path, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        edit.change_account(path, "work", {key: "hunter2"})
    assert "secrets do not belong in the config file" in str(info.value)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigError, match="secrets do not belong"):
        edit.add_account(path, "other", "imap", {**HOME, key: "hunter2"})
    assert path.read_text() == SRC


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"port": 70000}, "port: expected a whole number from 1 to 65535, got 70000"),
        ({"email": "nobody"}, 'email: expected an email address, got "nobody"'),
        ({"hots": "x"}, "unknown key 'hots'; did you mean \"host\"?"),
        ({"host": None}, "host: missing"),
    ],
)
def test_an_invalid_result_leaves_the_file_untouched(
    path: Path, change: dict[str, object], expected: str
) -> None:
    before = path.stat()
    with pytest.raises(ConfigError) as info:
        edit.change_account(path, "work", change)  # type: ignore[arg-type]
    assert expected in str(info.value) and str(info.value).startswith(str(path))
    assert path.read_text() == SRC
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert files(path.parent) == ["config.toml"]


def test_unknown_and_duplicate_accounts_are_refused(path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no account named 'nope' \(accounts: work\)"):
        edit.change_account(path, "nope", {"port": 1})
    with pytest.raises(ConfigError, match="no account named 'nope'"):
        edit.remove_account(path, "nope")
    with pytest.raises(ConfigError, match=r"\[accounts.work\]: an account of that name exists"):
        edit.add_account(path, "work", "imap", HOME)
    assert path.read_text() == SRC


def test_a_broken_file_is_not_rewritten(path: Path) -> None:
    path.write_text(SRC + "[oops\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        edit.change_account(path, "work", {"port": 993})
    assert path.read_text() == SRC + "[oops\n"


def test_the_composition_root_adds_the_kinds_checks(path: Path) -> None:
    """``mailtui.accounts`` edits through the kinds: an Exchange account with an smtp
    table passes the reader but not its kind, and is not written."""
    values = {"email": "me@corp.example", "host": "mail.corp.example", "smtp.host": "x"}
    with pytest.raises(ConfigError, match="Exchange accounts send through the server itself"):
        accounts.add_account(path, "corp", "exchange", values)
    assert path.read_text() == SRC
    values.pop("smtp.host")
    config = accounts.add_account(path, "corp", "exchange", values)
    assert config.account("corp").port == 443
    config = accounts.change_account(path, "corp", {"poll_interval": 60})
    assert config.account("corp").poll_interval == 60
    config = accounts.remove_account(path, "corp")
    assert path.read_text() == SRC

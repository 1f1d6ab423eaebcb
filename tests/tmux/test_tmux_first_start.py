"""The real binary's first start (tmux, 80x24): with no account, `mailtui` opens the
setup wizard instead of an empty screen, the demo is one key (F9) away, and the wizard
walked by keys ends in the main screen with the new account syncing (a real Dovecot)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.servers import DovecotNotInstalled, DovecotServer, make_self_signed_cert
from tests.servers.dnsmasq import DnsServer
from tests.tmux.test_tmux_demo import Pane, tmux

pytestmark = pytest.mark.tmux

BINARY = Path(sys.executable).parent / "mailtui"


def test_first_start_opens_the_wizard_and_f9_the_demo(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps.sh")
    session = f"mailtui-first-{uuid.uuid4().hex[:8]}"
    env = {
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    command = (
        " ".join(["env", *(f"{k}={v}" for k, v in env.items()), str(BINARY)])
        + "; echo mailtui-exit=$?; sleep 60"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command],
        check=True,
        timeout=10,
        env={**os.environ, "TMUX": ""},
    )
    pane = Pane(session)
    try:
        screen = pane.wait_for(lambda s: "who you are" in s)
        assert "F9: try the demo instead" in screen
        pane.keys("F9")
        pane.wait_for(lambda s: "in step" in s and "Inbox" in s, timeout=60)
        pane.keys("q")
        screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=20)
        assert "mailtui-exit=0" in screen
        assert "Traceback" not in screen
        assert not (tmp_path / "config.toml").exists()  # nothing saved
    finally:
        tmux("kill-session", "-t", session)


def test_first_start_walks_the_wizard_to_an_account_syncing(tmp_path: Path) -> None:
    """No config: the wizard, its discovery pointed at a dnsmasq on loopback (SRV records
    naming a real Dovecot started here) through the MAILTUI_SETUP_* variables; typed by
    keys to Save, after which the main screen shows the account in step and its mail."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps.sh")
    tls = make_self_signed_cert(tmp_path / "tls")
    dovecot = DovecotServer(tls)
    try:
        dovecot.start()
    except DovecotNotInstalled as exc:
        pytest.fail(str(exc))
    dns = DnsServer(srv=[f"_imaps._tcp.first.test,localhost,{dovecot.imaps_port},0,0"],
                    hosts=["localhost,127.0.0.1"])  # fmt: skip
    session = f"mailtui-first-{uuid.uuid4().hex[:8]}"
    try:
        dns.start()
        dovecot.add_user("ann", "s3cret-pw")
        dovecot.deliver(
            "ann",
            b"From: Bo <bo@first.test>\r\nTo: ann@first.test\r\nSubject: Hello from the wizard"
            b"\r\nMessage-ID: <hello@first.test>\r\n\r\nHi.\r\n",
        )
        (tmp_path / "pw").write_text("s3cret-pw")
        closed = "http://127.0.0.1:9"
        env = {
            "MAILTUI_DATA_DIR": str(tmp_path / "data"),
            "MAILTUI_STATE_DIR": str(tmp_path / "state"),
            "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
            "MAILTUI_SETUP_DNS": dns.address,
            "MAILTUI_SETUP_AUTOCONFIG_URL": f"{closed}/autoconfig",
            "MAILTUI_SETUP_ISPDB_URL": f"{closed}/{{domain}}",
            "MAILTUI_SETUP_AUTODISCOVER_URL": f"{closed}/autodiscover",
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        command = (
            " ".join(["env", *(f"{k}={v}" for k, v in env.items()), str(BINARY)])
            + "; echo mailtui-exit=$?; sleep 60"
        )
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command],
            check=True,
            timeout=10,
            env={**os.environ, "TMUX": ""},
        )
        pane = Pane(session)
        pane.wait_for(lambda s: "who you are" in s)
        def type_(*keys: str) -> None:
            """Each key on its own, a moment apart: a key that moves the focus is
            handled before the next one arrives (as a person types)."""
            for key in keys:
                pane.keys(key)
                time.sleep(0.3)

        type_("Ann", "Enter", "ann@first.test")
        pane.wait_for(lambda s: "ann@first.test" in s)
        type_("Enter")
        pane.wait_for(lambda s: "SRV records: found" in s and "still asking" not in s)
        type_("Enter")  # IMAP, found
        pane.wait_for(lambda s: "the servers" in s)
        type_("Tab", "Tab", "Tab", "C-u", "ann")  # username
        type_("Tab", "Tab", "Tab", "Tab", str(tls.ca_path))  # ca_file
        pane.wait_for(lambda s: str(tls.ca_path)[-20:] in s)
        type_("Enter")
        pane.wait_for(lambda s: "signing in" in s)
        type_("Tab", f"cat {tmp_path / 'pw'}", "Enter")  # a command that prints it
        pane.wait_for(lambda s: "localhost: not in first.test" in s)
        type_("Enter")  # yes, it is the provider's
        screen = pane.wait_for(lambda s: "ok  incoming imap" in s or "FAILED" in s, timeout=60)
        assert "ok  incoming imap" in screen, screen
        time.sleep(0.5)  # a button just pressed takes no press while it shows the press
        type_("Enter")
        pane.wait_for(lambda s: "6 of 6: save" in s)
        type_("Enter")
        screen = pane.wait_for(
            lambda s: "Hello from the wizard" in s and "first: in step" in s, timeout=60
        )
        assert "Traceback" not in screen
        pane.keys("q")
        screen = pane.wait_for(lambda s: "mailtui-exit=" in s, timeout=20)
        assert "mailtui-exit=0" in screen
        config = (tmp_path / "config.toml").read_text()
        assert "[accounts.first]" in config and "s3cret-pw" not in config
    finally:
        tmux("kill-session", "-t", session)
        dns.stop()
        dovecot.stop()

"""`mailtui send --outbox` from a config file with `auth = "none"`: through the relay
that offers no AUTH, and a word about the missing Sent folder (the copy waits)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from mailtui.compose import build_message
from mailtui.models import AccountKind, FolderRole, OutboxState, RemoteFolder
from mailtui.store import Store
from mailtui.sync import outbox
from tests.integration.smtp_support import account_config, draft, imap_messages
from tests.servers import MailUser, SMTPServer

ROOT = Path(__file__).resolve().parents[2]


def _config(home: Path, user: MailUser, relay: SMTPServer) -> dict[str, str]:
    (home / "config.toml").write_text(
        f"""[accounts.work]
kind = "imap"
email = "{user.email}"
username = "{user.name}"
host = "{user.host}"
port = {user.imaps_port}
ca_file = "{user.ca_path}"
password_command = "printf %s {user.password}"
[accounts.work.smtp]
host = "{user.host}"
port = {relay.port}
security = "starttls"
auth = "none"
""",
        encoding="utf-8",
    )
    return {
        **os.environ,
        "MAILTUI_DATA_DIR": str(home / "data"),
        "MAILTUI_STATE_DIR": str(home / "state"),
        "MAILTUI_CONFIG": str(home / "config.toml"),
    }


def test_send_outbox_through_a_relay_and_no_sent_folder_is_said(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], relay_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    env = _config(tmp_path, me, relay_server)

    async def queue() -> None:
        acc = account_config(me)
        async with await Store.open(tmp_path / "data" / "mail.sqlite") as store:
            account = await store.ensure_account("work", AccountKind.IMAP, me.email)
            await store.sync_folders(
                account.id, [RemoteFolder("INBOX", "INBOX", FolderRole.INBOX)]
            )
            msg = build_message(draft(acc, rcpt.email, subject="Via the relay", attachments=()))
            await outbox.queue(store, account.id, msg)

    asyncio.run(queue())
    done = subprocess.run(
        [sys.executable, "-m", "mailtui", "send", "--outbox"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "sent to" in done.stdout
    assert "work: the account has no Sent folder; the copies wait in the outbox" in done.stderr
    assert [m["Subject"] for m in imap_messages(rcpt)] == ["Via the relay"]
    [accepted] = relay_server.messages_to(rcpt.email)
    assert accepted.login is None and accepted.tls

    async def waiting() -> list[OutboxState]:
        async with await Store.open(tmp_path / "data" / "mail.sqlite") as store:
            [account] = await store.accounts()
            return [i.state for i in await store.outbox(account.id)]

    assert asyncio.run(waiting()) == [OutboxState.SENT]  # kept, not dropped

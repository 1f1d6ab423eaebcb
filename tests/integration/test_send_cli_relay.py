"""`mailtui send --outbox` from a config file with `auth = "none"`: through the relay
that offers no AUTH, and a word about the missing Sent folder (the copy waits)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from mailtui.models import OutboxState
from mailtui.store import Store
from tests.integration.cli_support import home_env, imap_account_toml, mailtui, queue_one
from tests.integration.smtp_support import imap_messages
from tests.servers import MailUser, SMTPServer


def _config(home: Path, user: MailUser, relay: SMTPServer) -> dict[str, str]:
    (home / "config.toml").write_text(
        imap_account_toml(user)
        + f"""password_command = "printf %s {user.password}"
[accounts.work.smtp]
host = "{user.host}"
port = {relay.port}
security = "starttls"
auth = "none"
""",
        encoding="utf-8",
    )
    return home_env(home)


def test_send_outbox_through_a_relay_and_no_sent_folder_is_said(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], relay_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    env = _config(tmp_path, me, relay_server)

    queue_one(tmp_path, me, rcpt.email, "Via the relay")
    done = mailtui(env, "send", "--outbox")
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

"""``mailtui send [-t] [-f FROM] [RECIPIENT…] < message`` (queued, then sent) and
``mailtui send --outbox`` (what waits in the outboxes)."""

from __future__ import annotations

import argparse
import sys

from mailtui import accounts
from mailtui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_QUEUED,
    UserError,
    ask_passwords,
    open_store,
)
from mailtui.config import Config
from mailtui.models import OutboxState, counted
from mailtui.sync.contract import EventKind, SyncEvent


async def cmd_send(args: argparse.Namespace, config: Config) -> int:
    if args.demo:
        raise UserError("the demo account cannot send mail")
    if not args.outbox:
        return await _send_piped(args, config)
    if args.recipients or args.from_headers or args.envelope_from:
        raise UserError("send --outbox sends what is queued; it takes no message or recipients")
    return await _flush_outboxes(args, config)


async def _send_piped(args: argparse.Namespace, config: Config) -> int:
    """``mailtui send [-t] [-f FROM] [RECIPIENT…] < message``: queued (committed), then
    sent. 0 sent; EXIT_QUEUED when it waits in the outbox; nothing queued otherwise."""
    from mailtui.sync import outbox, piped
    from mailtui.sync.outbox_config import identities

    if sys.stdin.isatty():
        raise UserError("send reads the message from standard input: mailtui send ADDR < FILE")
    raw = sys.stdin.buffer.read(piped.MAX_MESSAGE + 1)
    try:
        acc = piped.pick_account(config, args.account, raw, args.envelope_from)
        message = piped.prepare(
            raw,
            args.recipients,
            from_headers=args.from_headers,
            envelope_from=args.envelope_from,
            identity=identities(acc)[0],
        )
    except piped.NotQueued as exc:
        raise UserError(f"not queued: {exc}") from None
    ask_passwords(config, acc.name)
    store = await open_store(False)
    try:
        account = await store.ensure_account(acc.name, acc.kind, acc.email)
        sender = accounts.outbox_sender(store, account, acc)
        if sender is None:
            raise UserError(
                f"not queued: account {acc.name!r} has no [accounts.{acc.name}.smtp] "
                "settings to send with"
            )
        item_id = await outbox.queue(store, account.id, message)
        report = await sender.flush()
        mine = next((r for r in report.results if r.item_id == item_id), None)
        if mine is not None and mine.state is OutboxState.SENT:
            print(f"{acc.name}: {mine.text}")
            return EXIT_OK
        why = mine.text if mine is not None else report.stopped or "not sent yet"
        retried = mine is None or mine.state is OutboxState.QUEUED
        then = (
            "it is sent again with `mailtui send --outbox` or when mailtui runs"
            if retried
            else "retry or discard it in mailtui's outbox (O)"
        )
        print(f"mailtui: {acc.name}: queued, not sent: {why}; it waits in the outbox: {then}",
              file=sys.stderr)  # fmt: skip
        return EXIT_QUEUED
    finally:
        await store.close()


async def _flush_outboxes(args: argparse.Namespace, config: Config) -> int:
    """``mailtui send --outbox``: exit 0 only when nothing is left unsent."""
    from mailtui.sync import outbox

    ask_passwords(config, args.account)
    configured = [config.account(args.account)] if args.account else list(config.accounts)
    store = await open_store(False)
    try:
        unsent = 0
        for acc in configured:
            account = await store.ensure_account(acc.name, acc.kind, acc.email)
            said: list[SyncEvent] = []
            sender = accounts.outbox_sender(store, account, acc, said.append)
            if sender is None:
                waiting = sum(i.state in outbox.UNSENT for i in await store.outbox(account.id))
                if waiting:
                    print(
                        f"{acc.name}: {counted(waiting, 'message')} "
                        f"{'waits' if waiting == 1 else 'wait'}, but the account has no "
                        f"[accounts.{acc.name}.smtp] settings",
                        file=sys.stderr,
                    )
                    unsent += waiting
                continue
            report = await sender.flush()
            for r in report.results:
                line = f"{acc.name}: {r.subject!r}: {r.text}"
                print(line, file=sys.stdout if r.state is OutboxState.SENT else sys.stderr)
            if report.stopped:
                print(f"{acc.name}: not sending: {report.stopped}", file=sys.stderr)
            if any(e.kind == EventKind.NO_SENT_FOLDER for e in said):
                print(
                    f"{acc.name}: the account has no Sent folder; the copies wait in the "
                    "outbox until mailtui, when it next runs, creates one (it asks) or is "
                    "told to keep none",
                    file=sys.stderr,
                )
            unsent += report.unsent
        return EXIT_OK if unsent == 0 else EXIT_FAILED
    finally:
        await store.close()

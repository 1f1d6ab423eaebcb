"""``mailtui sync [--once] [--account NAME]``: the sync workers without the UI."""

from __future__ import annotations

import argparse
import sys

from mailtui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    ask_passwords,
    open_store,
    progress_printer,
    worker_specs,
)
from mailtui.config import Config
from mailtui.gc_policy import batch_collections
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager


async def cmd_sync(args: argparse.Namespace, config: Config) -> int:
    if not args.demo:
        ask_passwords(config, args.account)
    store = await open_store(args.demo)
    try:
        specs = await worker_specs(store, config, args.demo, args.account)
        if not specs:
            raise UserError(
                "no accounts configured: `mailtui setup --email ADDRESS --non-interactive` adds one"
            )
        manager = SyncManager(store, specs)
        manager.add_listener(progress_printer(lambda s: print(s, flush=True)))
        with batch_collections():  # fewer collections while batches stream in
            if args.once:
                results = await manager.run_once()
            else:
                try:
                    results = await manager.run_forever()
                finally:
                    await manager.stop()
        failed = [name for name, st in results.items() if st is not AccountStatus.ONLINE]
        for name in failed:
            print(f"{name}: not in step ({results[name].value})", file=sys.stderr)
        return EXIT_FAILED if failed else EXIT_OK
    finally:
        await store.close()

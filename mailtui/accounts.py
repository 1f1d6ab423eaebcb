"""The composition root: config + kind registry + store -> the workers that sync accounts."""

from __future__ import annotations

import threading
from pathlib import Path

from mailtui.models import AccountKind
from mailtui.protocols.demo import ACCOUNT
from mailtui.protocols.demo.backend import DemoBackend, DemoServer
from mailtui.protocols.demo.generate import ME
from mailtui.store import Store
from mailtui.sync.manager import WorkerSpec
from mailtui.sync.worker import WorkerOptions


async def demo_spec(
    store: Store, directory: Path, *, count: int = 3000, arrival_interval: float = 90.0
) -> WorkerSpec:
    """The demo account in ``store``, served from ``directory/server.sqlite``."""
    account = await store.ensure_account(ACCOUNT, AccountKind.DEMO, ME[1])
    lock = threading.Lock()
    servers: list[DemoServer] = []

    def server() -> DemoServer:
        with lock:  # one server object, shared by every reconnect of the worker
            if not servers:
                servers.append(DemoServer(directory / "server.sqlite", count=count))
            return servers[0]

    return WorkerSpec(
        account=account,
        factory=lambda: DemoBackend(server, arrival_interval=arrival_interval),
        options=WorkerOptions(poll_interval=300.0, body_days=30),
    )

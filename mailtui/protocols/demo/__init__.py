"""The demo account: realistic mail from a local demo server, no network, no config."""

from __future__ import annotations

from mailtui.protocols.demo.backend import DemoBackend, DemoServer

ACCOUNT = "demo"


__all__ = ["ACCOUNT", "DemoBackend", "DemoServer"]

"""``WorkerOptions``: how often a worker polls, its body window, its backoff. Apart from
``worker.py`` so its parts can name it without importing the worker."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    poll_interval: float = 300.0
    body_days: int = 30
    backoff_initial: float = 1.0
    # A server back after a restart is tried again within this (the reconnect key: at once).
    backoff_max: float = 60.0

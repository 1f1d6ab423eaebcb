"""Work for Textual's workers given as a function that makes the coroutine (``Job``).

An exclusive worker replaced by a newer one before it started never runs what it was
given: a coroutine object made for it is left un-awaited (Python warns "coroutine …
was never awaited" when it is collected), a function that would make one is simply
never called. Textual calls a coroutine function, or a ``partial`` of one, itself.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TypeAlias

from textual.dom import DOMNode
from textual.worker import Worker

#: ``partial(self._fetch, source, span)``, an ``async def`` without arguments: what
#: ``run_worker`` gets instead of ``self._fetch(source, span)``.
Job: TypeAlias = Callable[[], Coroutine[None, None, None]]


def run_job(
    node: DOMNode, job: Job, *, group: str, exclusive: bool = False, exit_on_error: bool = True
) -> Worker[None]:
    """``node.run_worker`` for a ``Job`` (the result type spelled out for mypy, which
    cannot pick it from ``run_worker``'s union of accepted kinds of work)."""
    worker: Worker[None] = node.run_worker(
        job, group=group, exclusive=exclusive, exit_on_error=exit_on_error
    )
    return worker

"""How much freed memory the C allocator may keep: set once, when the process starts.

A sync moves mail through large, short-lived ``bytes``: a 16 MB batch of messages, a
pipelined RETR answer read as one block, the indexer's chunks of text. glibc's malloc
hands out blocks of at least ``M_MMAP_THRESHOLD`` bytes as their own mappings, given
back to the system when freed; smaller ones come from the heap, which keeps what is
freed for later and can give back only its top. The threshold moves by default: every
free of a mapped block raises it to that block's size (up to 32 MiB), so once the first
multi-megabyte buffer is freed, the next ones come from the heap, and small objects
allocated between them pin the holes. A 10,000-message POP3 download peaked at
177–247 MB that way while Python's own allocations never passed 83 MB
(docs/benchmarks.md).

``keep_big_blocks_mapped`` fixes the threshold at 1 MiB (``mallopt``, which also ends the
moving), so every block that large is its own mapping again, given back when freed. It
does nothing where the C library is not glibc (musl, macOS), and nothing when the user
set the threshold already (``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES``).

``pause_collections`` / ``resume_collections``: no cyclic garbage collection while the
program starts. Start-up (imports, the stylesheet, the widgets) builds about 110,000
objects that live as long as the process, and CPython's automatic collections walked them
about 150 times before the first paint (one of them a full collection): 30-35 ms of the
~0.3 s of CPU until the first paint (docs/decisions.md, issue 17). ``mailtui``
(``mailtui.__main__``) pauses them first thing; the headless commands resume them once the
arguments are read, the UI after its first paint. Resuming freezes what start-up built
(``gc.freeze``: moved out of the generations collections walk), so the first collection
after the pause does not walk it all at once; the UI's ``GcPacer`` unfreezes, collects and
freezes again two seconds later, so start-up's few cycles of garbage (about 6,000 objects)
are freed then, as before.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from typing import Final

#: mallopt's parameter number for the threshold (glibc's malloc.h).
M_MMAP_THRESHOLD: Final = -3
#: Blocks this large or larger get a mapping of their own (the bench's A/B: 1 MiB kept
#: the peak lowest with times within the noise; 128 KiB was slower).
MMAP_THRESHOLD: Final = 1 << 20


def keep_big_blocks_mapped(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True if it was set here."""
    if not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False  # the user's own setting wins
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: the C library it runs on
        if not hasattr(libc, "gnu_get_libc_version"):
            return False  # not glibc (musl has a mallopt that does nothing)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))


_paused = False


def pause_collections() -> None:
    """No automatic garbage collection until ``resume_collections`` (start-up)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collections() -> None:
    """Collections again, what exists now frozen; nothing when not paused here (a test
    that runs ``cli.main`` in its own process, a second call)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()

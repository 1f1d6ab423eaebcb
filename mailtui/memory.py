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
"""

from __future__ import annotations

import ctypes
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

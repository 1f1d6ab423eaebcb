"""``mailtui.memory``: with glibc's mmap threshold fixed, freed big blocks go back to the
system; without it (the moving threshold), small blocks between them pin the heap.

Each case runs in a new interpreter: the setting is for the whole process and cannot be
undone. What is measured is the process's resident memory (VmRSS) that stays after the
big blocks are freed, not time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# 40 blocks of 2 MiB, each followed by a 64 KiB block from the C heap (over 512 bytes:
# not Python's own allocator) that outlives it, after one 8 MiB block was freed (which
# raises the moving threshold past 2 MiB). Prints the MiB still resident after the big
# blocks are freed.
SCRIPT = """
import sys
from mailtui import memory

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

print(memory.keep_big_blocks_mapped() if sys.argv[1] == "on" else None)
big = b"x" * (8 << 20)
del big
base = rss_mib()
blocks, kept = [], []
for i in range(40):
    blocks.append(b"b" * (2 << 20))
    kept.append(b"k" * (64 << 10))
del blocks
print(rss_mib() - base)
"""


def kept_mib(mode: str, **env: str) -> tuple[str, float]:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    environ.pop("GLIBC_TUNABLES", None)
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environ, **env},
        check=True,
    )
    said, kept = p.stdout.split()
    return said, float(kept)


def test_freed_big_blocks_go_back_to_the_system() -> None:
    said, on = kept_mib("on")
    assert said == "True"
    _, off = kept_mib("off")
    assert on < 16, on  # 80 MiB were allocated and freed
    assert off > on + 40, (off, on)  # the failure this fixes, still there without it


def test_the_users_own_setting_wins() -> None:
    said, _ = kept_mib("on", MALLOC_MMAP_THRESHOLD_="131072")
    assert said == "False"
    said, _ = kept_mib("on", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072")
    assert said == "False"


# ---------------------------------------------------------------- collections at start-up

PAUSE = """
import gc, sys
from mailtui import memory

memory.resume_collections()  # not paused: nothing happens
print(gc.isenabled(), gc.get_freeze_count())
memory.pause_collections()
before = gc.get_stats()[0]["collections"]
junk = [[i] for i in range(50_000)]
print(gc.isenabled(), gc.get_stats()[0]["collections"] - before)
memory.resume_collections()
print(gc.isenabled(), gc.get_freeze_count() >= 50_000)
"""


def test_collections_pause_and_resume_with_start_up_frozen() -> None:
    p = subprocess.run(
        [sys.executable, "-c", PAUSE], capture_output=True, text=True, cwd=ROOT, check=True
    )
    untouched, paused, resumed = p.stdout.splitlines()
    assert untouched == "True 0"
    enabled, collections = paused.split()
    assert enabled == "False"
    assert int(collections) == 0  # 50,000 new lists and no collection of them
    assert resumed == "True True"


HEADLESS = """
import gc, sys
from mailtui import __main__ as entry

sys.argv = ["mailtui", "--config", sys.argv[1], "sync", "--once"]
code = entry.main()  # no account: a plain error line, after the arguments were read
print(code, gc.isenabled())
"""


def test_a_headless_command_runs_with_collections_on(tmp_path: Path) -> None:
    """``mailtui`` pauses collections for start-up; a command without the UI (here one
    that fails: no account) has them back once its arguments are read."""
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
    }
    p = subprocess.run(
        [sys.executable, "-c", HEADLESS, str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    code, enabled = p.stdout.split()
    assert code != "0"
    assert enabled == "True"

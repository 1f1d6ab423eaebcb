"""Every benchmark runs small in CI and prints figures in the agreed form.

No timing is asserted here (a benchmark's verdict is for people reading figures, not for
a test on a noisy machine); this checks that each script runs, takes its size as an
argument, and prints `name: value unit` lines followed by a verdict line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A benchmark is a script (it has a __main__ block); other modules there are its helpers.
SCRIPTS = sorted(
    p for p in (ROOT / "bench").glob("*.py") if "__main__" in p.read_text(encoding="utf-8")
)
FIGURE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*: -?[0-9][0-9.,]*(e[+-]?[0-9]+)? ?\S*$")
SMALL = "500"
#: Scripts whose size is not a number of messages: a small size in their own unit.
SMALL_FOR = {
    "eas_wbxml.py": "1",  # megabytes of WBXML
    "eas_sync.py": "40",  # SOGo takes about 25 ms a message, synced several times a run
}


def test_there_are_benchmarks() -> None:
    assert SCRIPTS, "bench/ holds no scripts"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_runs_small_and_prints_figures(script: Path, tmp_path: Path) -> None:
    # One timed run where a script repeats them (--runs): the figures and the verdict
    # come out the same way, from a median of one.
    runs = ["--runs", "1"] if "--runs" in script.read_text(encoding="utf-8") else []
    p = subprocess.run(
        [sys.executable, str(script), SMALL_FOR.get(script.name, SMALL), *runs],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME": str(tmp_path), "TMPDIR": str(tmp_path)},
    )
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert lines, f"{script.name} printed nothing; stderr:\n{p.stderr[-2000:]}"
    *figures, verdict = lines
    assert verdict.startswith("verdict: "), verdict
    assert figures, "no figures before the verdict"
    for line in figures:
        assert FIGURE.match(line), f"{script.name}: not a `name: value unit` line: {line!r}"
    # Exit status: 0 with PASS, 1 with FAIL; anything else is a crash.
    assert p.returncode in (0, 1), p.stderr[-2000:]
    assert ("PASS" in verdict) == (p.returncode == 0), verdict

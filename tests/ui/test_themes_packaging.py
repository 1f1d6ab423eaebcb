"""The built-in themes ship in the installed package: build a wheel from the source tree,
install it into an empty folder, and load the themes from there (not from the repo)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_installed_mailtui_has_its_themes(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)], check=True,
                   timeout=300)
    wheel = next(wheels.glob("mailtui-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    probe = (
        "import mailtui.ui.themes as t; d = t.builtin_dir(); themes, problems = t.load_all(None);"
        "print(d); print(sorted(x.name for x in themes)); print(problems)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(target)},
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(target)
    assert out[1] == str(
        ["ansi-16", "high-contrast", "mailtui-dark", "mailtui-light", "solarized-dark"]
    )
    assert out[2] == "[]"

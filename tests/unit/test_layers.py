"""The import contract in pyproject.toml ([tool.importlinter]) is real and complete.

The test command runs ``lint-imports`` over the tree as it is. These tests check the
contract itself: that it names every top-level part of the package (a new package cannot
slip past it by not being listed), and that it *fails* when a forbidden import is added
to a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    assert linter["root_package"] == "mailtui"
    return {c["id"]: c for c in linter["contracts"]}


def _layered_modules() -> set[str]:
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    names: set[str] = set()
    for layer in layers:
        for part in str(layer).replace(":", "|").split("|"):
            names.add(part.strip())
    return names


def _top_level_parts() -> set[str]:
    parts = set()
    for path in (ROOT / "mailtui").iterdir():
        if path.name.startswith(("_", ".")) and path.name != "__main__.py":
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            parts.add(f"mailtui.{path.name}")
        elif path.suffix == ".py":
            parts.add(f"mailtui.{path.stem}")
    return parts


def test_every_part_of_the_package_is_in_a_layer() -> None:
    missing = sorted(_top_level_parts() - _layered_modules())
    assert missing == [], f"not in any layer of [tool.importlinter]: {missing}"


def test_textual_is_forbidden_everywhere_below_the_ui() -> None:
    contract = _contracts()["textual-in-ui-only"]
    assert contract["forbidden_modules"] == ["textual"]
    sources = set(contract["source_modules"])  # type: ignore[arg-type]
    above_ui = {
        "mailtui.__main__",
        "mailtui.cli",
        "mailtui.setup_command",
        "mailtui.app",
        "mailtui.ui",
    }
    assert sources == _layered_modules() - above_ui


def _lint_copy(tmp_path: Path, edit: tuple[str, str] | None) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the package, with one line appended to one module."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extras (import-linter)")
    skip_caches = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "mailtui", tmp_path / "mailtui", ignore=skip_caches)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if edit is not None:
        module, line = edit
        target = tmp_path / "mailtui" / module
        target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_unchanged_copy_passes(tmp_path: Path) -> None:
    result = _lint_copy(tmp_path, None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the store must not reach up into the sync layer
        ("store/packs.py", "import mailtui.sync.worker", "ui | cli"),
        # the store and the backends are independent siblings
        ("store/packs.py", "import mailtui.protocols.linereader", "ui | cli"),
        # the pure MIME layer must not import the store
        ("mime/sanitize.py", "import mailtui.store", "ui | cli"),
        # Textual belongs to the UI alone
        ("models/mail.py", "import textual.app", "Textual is imported only by the UI"),
        # triage returns an Outcome; it does not reach back into the screen that shows it
        ("ui/triage.py", "import mailtui.ui.screens.main", "No import cycles"),
    ],
)
def test_a_forbidden_import_breaks_the_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    result = _lint_copy(tmp_path, (module, line))
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout, result.stdout

"""Every third-party package mailtui imports is a declared dependency in pyproject.toml
(a test extra is not enough: `pip install .` does not install it, and `mailtui --demo`
once failed so on a fresh install, for wcwidth)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    for stop in "<>=!~;[ ":
        requirement = requirement.split(stop)[0]
    return requirement.lower().replace("_", "-")


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    distributions = packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in sorted((ROOT / "mailtui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "mailtui" or top in sys.stdlib_module_names:
                    continue
                dists = {_name(d) for d in distributions.get(top, [top])}
                if not dists & declared:
                    missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert missing == {}, f"imported but not in [project] dependencies: {missing}"

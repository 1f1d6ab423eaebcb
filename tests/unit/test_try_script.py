"""scripts/try.sh, the README's first command: its decisions (contract test).

The script runs for real under bash, with `id`, `sudo`, `apt-get`, `apt-cache` and
`python3` replaced by stubs on PATH that record their calls: a fake only for the
script's decision logic (root or sudo, install or not, which Python), so that no
package is installed and no `mailtui` started. The stub `python3 -m venv DIR` makes a
DIR whose `python` and `mailtui` are stubs too. The real install and start are what
the script then execs (pip, `mailtui --demo`), run by the tmux test of the binary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "try.sh"
REAL_TOOLS = ("bash", "env", "dirname", "awk", "cat", "mkdir", "chmod", "printf")

STUB = """#!/bin/bash
echo "{name} $*" >> "$CALLS"
{body}
"""

PYTHON_STUB = """
case "$*" in
  *ensurepip*) [ "${STUB_VENV:-yes}" = yes ] || exit 1 ;;
  *version_info*) [ "${STUB_PYTHON_OLD:-no}" = no ] || exit 1 ;;
  -V) echo "Python 3.10.12" ;;
  "-m venv "*)
    dir="$3"; mkdir -p "$dir/bin"
    for tool in python mailtui; do
      printf '#!/bin/bash\\necho "venv-%s $*" >> "$CALLS"\\n' "$tool" > "$dir/bin/$tool"
      chmod +x "$dir/bin/$tool"
    done ;;
esac
exit 0
"""


def _stubs(directory: Path, *, uid: int, sudo: bool, apt: bool) -> None:
    directory.mkdir()
    bodies = {
        "id": f'[ "$1" = -u ] && echo {uid}',
        "apt-cache": 'echo "  Candidate: ${STUB_CANDIDATE:-3.11.2-1}"',
        "apt-get": "exit 0",
        "python3": PYTHON_STUB,
    }
    if sudo:
        bodies["sudo"] = 'exec "$@"'
    if not apt:
        del bodies["apt-get"], bodies["apt-cache"]
    for name, body in bodies.items():
        path = directory / name
        path.write_text(STUB.format(name=name, body=body))
        path.chmod(0o755)
    for tool in REAL_TOOLS:
        real = shutil.which(tool)
        assert real is not None, tool
        (directory / tool).symlink_to(real)


def _run(
    tmp_path: Path, *, uid: int = 0, sudo: bool = True, apt: bool = True, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    _stubs(bin_dir, uid=uid, sudo=sudo, apt=apt)
    calls = tmp_path / "calls"
    calls.touch()
    run_env = {
        "PATH": str(bin_dir),
        "CALLS": str(calls),
        "MAILTUI_VENV": str(tmp_path / "venv"),
        "HOME": str(tmp_path),
        **env,
    }
    out = subprocess.run(
        [str(bin_dir / "bash"), str(SCRIPT), "--extra"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    return out, calls.read_text().splitlines()


INSTALL = "apt-get install -y -q --no-install-recommends python3 python3-venv"


def _without_probes(calls: list[str]) -> list[str]:
    """The calls that do something (not python3's checks of itself)."""
    return [c for c in calls if not (c.startswith("python3 -c") or c.startswith("id "))]


def test_root_without_venv_installs_without_sudo_then_starts_the_demo(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, uid=0, sudo=False, STUB_VENV="no")
    assert out.returncode == 0, out.stderr
    venv = tmp_path / "venv"
    assert _without_probes(calls) == [
        "apt-cache policy python3-venv",
        INSTALL,
        f"python3 -m venv {venv}",
        "venv-python -m pip install -q --disable-pip-version-check .",
        "venv-mailtui --demo --extra",
    ]


def test_a_user_with_sudo_installs_through_sudo(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, uid=1000, STUB_VENV="no")
    assert out.returncode == 0, out.stderr
    assert f"sudo env DEBIAN_FRONTEND=noninteractive {INSTALL}" in calls
    assert calls[-1] == "venv-mailtui --demo --extra"


def test_empty_package_lists_are_refreshed_first(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, uid=0, STUB_VENV="no", STUB_CANDIDATE="(none)")
    assert out.returncode == 0, out.stderr
    steps = _without_probes(calls)
    assert steps.index("apt-get update -qq") < steps.index(INSTALL)


def test_a_user_without_sudo_is_told_what_to_do(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, uid=1000, sudo=False, STUB_VENV="no")
    assert out.returncode == 1
    assert "needs root: run this as root, or install sudo" in out.stderr
    assert not any(c.startswith(("apt-get", "python3 -m venv", "venv-")) for c in calls)


def test_python_with_venv_needs_no_install_at_all(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, uid=1000, sudo=False)
    assert out.returncode == 0, out.stderr
    assert not any(c.startswith(("apt-", "sudo")) for c in calls)
    assert calls[-1] == "venv-mailtui --demo --extra"


def test_a_python_too_old_is_named(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, STUB_PYTHON_OLD="yes")
    assert out.returncode == 1
    assert "needs Python 3.11 or newer; python3 is Python 3.10.12" in out.stderr
    assert "PYTHON=python3.12 bash scripts/try.sh" in out.stderr
    assert not any(c.startswith(("apt-get", "venv-")) for c in calls)


def test_no_apt_get_no_guessing(tmp_path: Path) -> None:
    out, calls = _run(tmp_path, apt=False, STUB_VENV="no")
    assert out.returncode == 1
    assert "pipx install ." in out.stderr


def test_the_readme_keeps_exactly_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [b.split("```")[0].strip() for b in readme.split("```sh\n")[1:]]
    assert commands == ["bash scripts/try.sh", "bash scripts/test.sh"]

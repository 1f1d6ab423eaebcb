"""The UI boundary: nothing outside mailtui/ui and app.py imports Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEADLESS = [
    "mailtui.store",
    "mailtui.mime",
    "mailtui.sync.contract",
    "mailtui.sync.worker",
    "mailtui.sync.manager",
    "mailtui.accounts",
    "mailtui.sync.outbox",
    "mailtui.compose",
    "mailtui.protocols.smtp",
    "mailtui.protocols.demo",
    "mailtui.config",
    "mailtui.secrets",
    "mailtui.export",
    "mailtui.cli",
    "mailtui.commands.sync",
    "mailtui.commands.export",
    "mailtui.commands.send",
]


def test_headless_modules_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in HEADLESS)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "", f"headless import pulled in: {out.stdout.strip()}"


def test_only_ui_modules_mention_textual() -> None:
    offenders = []
    for path in (ROOT / "mailtui").rglob("*.py"):
        rel = path.relative_to(ROOT / "mailtui")
        if rel.parts[0] == "ui" or rel.name == "app.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "import textual" in text or "from textual" in text:
            offenders.append(str(rel))
    assert offenders == []


def test_protocol_and_demo_backends_do_not_import_the_store() -> None:
    offenders = []
    for folder in ("protocols", "demo"):
        for path in (ROOT / "mailtui" / folder).rglob("*.py"):
            if path.name == "__init__.py" and folder == "demo":
                continue  # wires the demo account into a store; the backend itself does not
            if "mailtui.store" in path.read_text(encoding="utf-8"):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_mime_names_load_on_first_use_and_all_resolve() -> None:
    """``mailtui.mime`` loads its modules lazily (PEP 562); every exported name works."""
    code = (
        "import sys\n"
        "import mailtui.mime as mime\n"
        "assert 'mailtui.mime.parse' not in sys.modules, 'parse loaded eagerly'\n"
        "assert 'email.parser' not in sys.modules\n"
        "for name in mime.__all__:\n"
        "    getattr(mime, name)\n"
        "assert 'mailtui.mime.parse' in sys.modules\n"
        "assert set(mime._HOME) <= set(mime.__all__)\n"
        "from mailtui.mime import safe_filename, normalize_subject, body_text\n"
        "assert callable(safe_filename) and callable(normalize_subject)\n"
        "assert safe_filename('a/b.txt', 0, '') == mime.safe_filename('a/b.txt', 0, '')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_sync_does_not_load_what_it_does_not_need() -> None:
    """`mailtui sync --once` start-up is compared with mbsync's (bench/imap_sync.py):
    the SMTP, compose, export and full MIME code load only when used."""
    code = (
        "import sys\n"
        "import mailtui.cli, mailtui.protocols.imap.backend, mailtui.accounts\n"
        "heavy = [m for m in ('aiosmtplib', 'mailtui.compose', 'mailtui.export',\n"
        "    'mailtui.mime.parse', 'email.parser', 'platformdirs', 'textual', 'keyring',\n"
        "    'mailtui.discovery', 'mailtui.account_setup', 'dns', 'httpx')\n"
        "    if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)

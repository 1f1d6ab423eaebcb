"""Where mailtui keeps its files (XDG locations through platformdirs).

| what            | default (Linux)                         | override                 |
| --------------- | --------------------------------------- | ------------------------ |
| config.toml     | ~/.config/mailtui/config.toml           | ``--config PATH``        |
| mail cache      | ~/.local/share/mailtui/mail.sqlite      | ``MAILTUI_DATA_DIR``     |
| message bodies  | ~/.local/share/mailtui/mail.sqlite-bodies/ | ``MAILTUI_DATA_DIR``  |
| demo cache      | <data dir>/demo/                        | ``MAILTUI_DATA_DIR``     |
| logs            | ~/.local/state/mailtui/                 | ``MAILTUI_STATE_DIR``    |

Directories are created 0700: a mail cache is private.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

APP = "mailtui"


def _platformdirs() -> ModuleType:
    # Imported when needed only: with the MAILTUI_* variables set it never is, and every
    # import is start-up time of `mailtui sync --once` (docs/decisions.md).
    import platformdirs

    return platformdirs


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode is masked by umask and ignored for existing directories.
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def config_file() -> Path:
    env = os.environ.get("MAILTUI_CONFIG")
    if env:
        return Path(env)
    return Path(_platformdirs().user_config_dir(APP)) / "config.toml"


def data_dir() -> Path:
    env = os.environ.get("MAILTUI_DATA_DIR")
    base = Path(env) if env else Path(_platformdirs().user_data_dir(APP))
    return _private_dir(base)


def state_dir() -> Path:
    env = os.environ.get("MAILTUI_STATE_DIR")
    base = Path(env) if env else Path(_platformdirs().user_state_dir(APP))
    return _private_dir(base)


def database_file() -> Path:
    return data_dir() / "mail.sqlite"


def demo_dir() -> Path:
    return _private_dir(data_dir() / "demo")

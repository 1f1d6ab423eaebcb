#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: installs what the tests need
# (Dovecot, SOGo for ActiveSync, tmux, a virtualenv with mailtui and its test extras),
# then runs ruff, mypy, the import contract (lint-imports) and pytest, the real-server
# integration tests included. Exits non-zero on any failure, including pytest's "no tests
# ran" (exit 5).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

VENV="${MAILTUI_TEST_VENV:-.venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'

echo "== ruff"
"$VENV/bin/ruff" check .
echo "== mypy"
"$VENV/bin/mypy"
echo "== lint-imports (the layers in pyproject.toml)"
"$VENV/bin/lint-imports" --no-cache
echo "== pytest"
# In parallel (pytest-xdist): most of the suite's time is waiting for servers, subprocesses
# and the UI, not CPU, so more workers than cores (MAILTUI_TEST_WORKERS, default 4).
# loadgroup keeps the tests of one SOGo stack on one worker (tests/conftest.py).
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/pytest" -q \
    -n "${MAILTUI_TEST_WORKERS:-4}" --dist loadgroup "$@"

#!/usr/bin/env bash
# Try mailtui from this checkout on a fresh Debian/Ubuntu machine, as root or as a user
# with sudo: installs Python's venv support when it is missing (apt-get, through sudo
# only when not root), makes a virtualenv (.venv), installs mailtui into it and starts
# `mailtui --demo` (arguments after the script's name go to mailtui).
#
#   bash scripts/try.sh
#   PYTHON=python3.12 bash scripts/try.sh      # another Python (3.11 or newer)
#   MAILTUI_VENV=~/venvs/mailtui bash scripts/try.sh
#
# Changes nothing when Python with venv is there already, apart from the virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/apt.sh
source scripts/lib/apt.sh

PYTHON="${PYTHON:-python3}"
VENV="${MAILTUI_VENV:-.venv}"

log() { printf '[try] %s\n' "$*" >&2; }

recent_enough() {
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

too_old() {
    log "mailtui needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)."
    log "With a newer one installed: PYTHON=python3.12 bash scripts/try.sh"
    exit 1
}

has_venv() {
    command -v "$PYTHON" >/dev/null 2>&1 && "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null
}

if command -v "$PYTHON" >/dev/null 2>&1 && ! recent_enough; then
    too_old
fi

if [[ ! -x "$VENV/bin/python" ]] && ! has_venv; then
    if ! command -v apt-get >/dev/null 2>&1; then
        log "$PYTHON with its venv module is needed: install Python 3.11+ (or use: pipx install .)"
        exit 1
    fi
    apt_use_sudo "installing python3-venv needs root: run this as root, or install sudo"
    packages=(python3 python3-venv)
    # A fresh machine has empty package lists: refresh them only then.
    if apt_lists_lack python3-venv; then
        log "apt-get update"
        apt_run apt-get update -qq
    fi
    log "apt-get install ${packages[*]}"
    apt_run apt-get install -y -q --no-install-recommends "${packages[@]}"
    recent_enough || too_old
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    log "making the virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
log "installing mailtui into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check .
exec "$VENV/bin/mailtui" --demo "$@"

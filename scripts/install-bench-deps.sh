#!/usr/bin/env bash
# Install the Debian packages of the peer clients that the benchmarks in bench/ compare
# mailtui with, in the same run (see docs/benchmarks.md):
#
#   scripts/install-bench-deps.sh
#
#   isync    mbsync, for bench/imap_sync.py
#   mpop     a pipelining POP3 client in C, for bench/pop3_sync.py
#   neomutt  bench/first_contact.py: open and end key (loads every header first)
#   aerc     bench/first_contact.py: open and end key (fetches pages on demand)
#   tmux     the terminal clients run in tmux
#
# Not part of the test command: the benchmarks run without them (in CI, at a tiny size)
# and then say that the ratios were not measured. The test dependencies (Dovecot, …) come
# from scripts/install-test-deps.sh, which the benchmarks need as well.
#
# Idempotent: packages already installed are left alone, and when nothing is missing the
# script changes nothing (no apt-get update either). Uses sudo when not run as root. No
# service is started: a temporary /usr/sbin/policy-rc.d that exits 101 is in place during
# the install when none exists (removed afterwards), as in install-test-deps.sh.
set -euo pipefail

PACKAGES=(
    isync     # mbsync
    mpop      # mpop
    neomutt
    aerc
    tmux
)

log() { printf '[install-bench-deps] %s\n' "$*" >&2; }

SUDO=()
if [[ $EUID -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        log "not root and sudo is not available"
        exit 1
    fi
fi

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PACKAGES[@]}"; do
    is_installed "$p" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    log "all present: ${PACKAGES[*]}"
    exit 0
fi
log "missing: ${missing[*]}"

POLICY=/usr/sbin/policy-rc.d
our_policy=0
cleanup() {
    if ((our_policy)); then
        "${SUDO[@]}" rm -f "$POLICY"
        our_policy=0
    fi
}
trap cleanup EXIT INT TERM

if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# temporary, from mailtui scripts/install-bench-deps.sh\nexit 101\n' \
        | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    our_policy=1
fi

# Refresh the package lists only when apt does not know a package we need.
needs_update=0
for p in "${missing[@]}"; do
    cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then
        needs_update=1
        break
    fi
done
if ((needs_update)); then
    log "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq
fi

log "apt-get install ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 \
    apt-get install -y -q --no-install-recommends "${missing[@]}"

cleanup

still=()
for p in "${PACKAGES[@]}"; do
    is_installed "$p" || still+=("$p")
done
if ((${#still[@]})); then
    log "still missing after install: ${still[*]}"
    exit 1
fi
log "installed: ${missing[*]}"

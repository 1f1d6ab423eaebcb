#!/usr/bin/env bash
# Install the peer clients the same-run benchmarks compare mailtui with (Debian packages):
#
#   scripts/install-bench-deps.sh
#
# Not needed by the tests: bench/first_contact.py measures neomutt and aerc when they are
# installed and says so when they are not; bench/imap_sync.py uses mbsync (isync).
# Idempotent; services are never started (a temporary policy-rc.d forbids it, as in
# scripts/install-test-deps.sh).
set -euo pipefail

PACKAGES=(
    neomutt   # bench/first_contact.py: open and end key, loads every header first
    aerc      # bench/first_contact.py: open and end key, fetches pages on demand
    isync     # bench/imap_sync.py: mbsync
    tmux      # the TUI clients run in tmux
)

SUDO=()
[[ $EUID -ne 0 ]] && SUDO=(sudo)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
((${#missing[@]} == 0)) && { echo "[install-bench-deps] all present" >&2; exit 0; }

POLICY=/usr/sbin/policy-rc.d
ours=0
cleanup() { ((ours)) && "${SUDO[@]}" rm -f "$POLICY"; ours=0; }
trap cleanup EXIT INT TERM
if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    ours=1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "[install-bench-deps] installed: ${missing[*]}" >&2

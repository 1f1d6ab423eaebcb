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

# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install_all "scripts/install-bench-deps.sh" once "${PACKAGES[@]}"

#!/usr/bin/env bash
# Install the Debian packages that mailtui's integration and terminal tests need.
#
#   scripts/install-test-deps.sh
#
# Idempotent: packages already installed are left alone, and when nothing is missing the
# script changes nothing (no apt-get update either). Uses sudo when not run as root.
#
# The tests start their *own* Dovecot (tests/servers/dovecot.py), and for ActiveSync their
# own SOGo, PostgreSQL and memcached (tests/servers/sogo.py), from generated configs in a
# temp dir. The system services that the Debian packages ship are never started, stopped
# or configured here: while installing, a temporary /usr/sbin/policy-rc.d that
# exits 101 forbids the packages' maintainer scripts to start services (only when no
# policy-rc.d exists already; ours is removed afterwards).
set -euo pipefail

PACKAGES=(
    dovecot-core      # dovecot, doveadm, doveconf
    dovecot-imapd     # IMAP + IMAPS
    dovecot-pop3d     # POP3 + POP3S
    dovecot-lmtpd     # LMTP: the test SMTP server delivers through it
    openssl           # self-signed test certificate
    ca-certificates
    tmux              # terminal tests run the real binary in tmux
    strace            # a POP3 test checks the fsyncs before DELE in a sync's system calls
    libwbxml2-utils   # xml2wbxml/wbxml2xml: the ActiveSync WBXML codec is checked against them
    # ActiveSync tests: SOGo and what it runs on (tests/servers/sogo.py starts them all
    # from a temp dir; the system clusters and services are never started or used)
    sogo              # sogod, SOGo's groupware server
    sogo-activesync   # its Microsoft-Server-ActiveSync endpoint
    postgresql        # initdb/postgres for SOGo's private cluster
    memcached         # SOGo's cache
    dnsmasq-base      # a DNS server (SRV, MX records) for the discovery tests; no service
)

log() { printf '[install-test-deps] %s\n' "$*" >&2; }

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
    printf '#!/bin/sh\n# temporary, from mailtui scripts/install-test-deps.sh\nexit 101\n' \
        | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    our_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when apt does not know a package we need (a fresh
# container has empty lists); a candidate of "(none)" also means stale or missing lists.
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
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 \
    apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    # Stale lists name versions the mirror no longer has (security updates replace them).
    log "apt-get install failed; apt-get update, then once more"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

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

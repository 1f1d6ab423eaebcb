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

# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install_all "scripts/install-test-deps.sh" retry "${PACKAGES[@]}"

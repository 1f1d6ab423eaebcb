# Debian package installs for the scripts in scripts/, sourced (not run) by
# install-test-deps.sh, install-bench-deps.sh and try.sh. The sourcing script defines
# log() first. Nothing here runs on sourcing: each function is called by the script.

# SUDO=() as root, (sudo) otherwise; with neither, log $1 and exit 1.
apt_use_sudo() {
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            log "$1"
            exit 1
        fi
    fi
}

# Runs apt-get (or another command) as root, never asking questions.
apt_run() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@"
}

apt_is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# True when apt does not know one of the packages (a fresh container has empty lists); a
# candidate of "(none)" also means stale or missing lists.
apt_lists_lack() {
    local p cand
    for p in "$@"; do
        cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
        if [[ -z "$cand" || "$cand" == "(none)" ]]; then
            return 0
        fi
    done
    return 1
}

# The packages of $@ that are not installed, one a line.
apt_missing() {
    local p
    for p in "$@"; do
        apt_is_installed "$p" || printf '%s\n' "$p"
    done
}

# Installs the packages of $@ that are missing and exits: 0 when all are installed after,
# 1 otherwise. Idempotent: when nothing is missing it changes nothing (no apt-get update
# either). $1 is the calling script's name (for the temporary policy-rc.d's comment), $2
# "retry" to run apt-get update and install once more when the install fails (stale lists
# name versions the mirror no longer has), "once" not to. While installing, a temporary
# /usr/sbin/policy-rc.d that exits 101 forbids the packages' maintainer scripts to start
# services (only when no policy-rc.d exists already; ours is removed afterwards).
apt_install_all() {
    local script="$1" retry="$2"
    shift 2
    local packages=("$@") missing still
    apt_use_sudo "not root and sudo is not available"
    mapfile -t missing < <(apt_missing "${packages[@]}")
    if ((${#missing[@]} == 0)); then
        log "all present: ${packages[*]}"
        exit 0
    fi
    log "missing: ${missing[*]}"

    APT_POLICY=/usr/sbin/policy-rc.d
    apt_our_policy=0
    trap apt_remove_policy EXIT INT TERM
    if [[ ! -e "$APT_POLICY" ]]; then
        printf '#!/bin/sh\n# temporary, from mailtui %s\nexit 101\n' "$script" \
            | "${SUDO[@]}" tee "$APT_POLICY" >/dev/null
        "${SUDO[@]}" chmod 755 "$APT_POLICY"
        apt_our_policy=1
    fi

    if apt_lists_lack "${missing[@]}"; then
        log "apt-get update"
        apt_run timeout 600 apt-get update -qq
    fi
    log "apt-get install ${missing[*]}"
    if [[ "$retry" == retry ]]; then
        if ! apt_run timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}"; then
            log "apt-get install failed; apt-get update, then once more"
            apt_run timeout 600 apt-get update -qq
            apt_run timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}"
        fi
    else
        apt_run timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    apt_remove_policy

    mapfile -t still < <(apt_missing "${packages[@]}")
    if ((${#still[@]})); then
        log "still missing after install: ${still[*]}"
        exit 1
    fi
    log "installed: ${missing[*]}"
    exit 0
}

apt_remove_policy() {
    if ((apt_our_policy)); then
        "${SUDO[@]}" rm -f "$APT_POLICY"
        apt_our_policy=0
    fi
}

# Shared by deploy/*.sh: install what is missing, configure and build.
# Sourced, not run.

ZSTORE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages every build needs. The issue that adds a dependency adds it here.
ZSTORE_BUILD_PACKAGES=(make gcc pkg-config cmake libsqlite3-dev libcmocka-dev libczmq-dev
    libmsgpack-dev)
# What the tests need besides the build: the Python interop test's peers.
ZSTORE_TEST_PACKAGES=(python3 python3-zmq python3-msgpack)

zstore_log() { printf '==> %s\n' "$*" >&2; }

# zstore_ensure_packages PKG... : installs the missing ones with apt-get when root,
# otherwise names them and fails.
zstore_ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        zstore_log "missing Debian packages: ${missing[*]}"
        zstore_log "run this command as root, or first: sudo apt-get install -y ${missing[*]}"
        return 1
    fi
    zstore_log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# zstore_build DIR [CMAKE ARGS...] : configures (once) and builds into DIR.
zstore_build() {
    local dir=$1; shift
    cmake -S "$ZSTORE_ROOT" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" --parallel "$(nproc)"
}

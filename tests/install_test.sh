#!/usr/bin/env bash
# install_test.sh BUILD_DIR README CC SANITIZE(0|1)
#
# What a user of the installed package gets: `cmake --install` into a fresh
# prefix must put zstore-broker, zstore, libzstore.so (with its soname, API
# symbols only), the headers and libzstore.pc in place; README's C example,
# taken from README itself, must compile with nothing but
# `pkg-config --cflags --libs libzstore` and run against the installed
# broker; the installed zstore must run without LD_LIBRARY_PATH.
# In a sanitized build the installed library is ASan-instrumented, so the
# example is built with -fsanitize=address,undefined too (SANITIZE=1).
set -euo pipefail

build=$1
readme=$2
cc=$3
sanitize=$4

work=$(mktemp -d)
broker_pid=
cleanup() {
    if [ -n "$broker_pid" ]; then
        kill -KILL "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

# --- Install ---------------------------------------------------------------
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" \
    || { cat "$work/install.log" >&2; fail "cmake --install failed"; }

for file in bin/zstore bin/zstore-broker include/zstore/zstore.h \
            include/zstore/zstore_client.h include/zstore/zstore_watch.h; do
    [ -f "$prefix/$file" ] || fail "not installed: $file"
done
pc=$(find "$prefix" -name libzstore.pc)
[ -n "$pc" ] || fail "not installed: libzstore.pc"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir libzstore)
case $libdir in "$prefix"/*) ;; *) fail "libzstore.pc names $libdir, not the install prefix";; esac

# The library: the soname its links point to, and only its API exported.
soname=$(readelf -d "$libdir/libzstore.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libzstore.so.0 ] || fail "soname is '$soname'"
[ -e "$libdir/$soname" ] || fail "no $soname in $libdir"
exported=$(nm -D --defined-only "$libdir/libzstore.so" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }')
grep -x 'zstore_client_new' <<<"$exported" >/dev/null || fail "zstore_client_new is not exported"
stray=$(grep -v '^zstore_' <<<"$exported" || true)
[ -z "$stray" ] || fail "exported beyond the API: $stray"
codec=$(grep -E '^zstore_(writer|reader|fields|buffer|topic)_' <<<"$exported" || true)
[ -z "$codec" ] || fail "the codec is exported: $codec"

# --- README's C example, through pkg-config ---------------------------------
awk '/^## C example/ { section = 1 }
     section && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$readme" >"$work/example.c"
[ -s "$work/example.c" ] || fail "no \`\`\`c block under '## C example' in $readme"
flags=()
if [ "$sanitize" = 1 ]; then
    flags=("-fsanitize=address,undefined" -fno-sanitize-recover=all)
fi
# shellcheck disable=SC2046  # pkg-config's output is words by design
"$cc" -std=c11 -Wall -Wextra -Werror "${flags[@]}" "$work/example.c" -o "$work/example" \
    $(pkg-config --cflags --libs libzstore) || fail "README's example does not compile"

# --- The installed broker, on random free ports -----------------------------
# ("!" rather than "*", the lowest free port: that may be one a broker test
# running beside us has just left and is about to bind again.)
mkfifo "$work/broker.out"
"$prefix/bin/zstore-broker" --db "$work/zstore.db" --requests 'tcp://127.0.0.1:!' \
    --events 'tcp://127.0.0.1:!' >"$work/broker.out" &
broker_pid=$!
exec 3<"$work/broker.out"           # kept open: the broker prints until it stops
requests=
events=
while IFS= read -r -t 30 -u 3 line; do
    case $line in
        "zstore-broker: requests "*) requests=${line#zstore-broker: requests } ;;
        "zstore-broker: events "*) events=${line#zstore-broker: events } ;;
        "zstore-broker: ready") break ;;
    esac
done
if [ -z "$requests" ] || [ -z "$events" ]; then
    fail "the installed zstore-broker did not start"
fi

output=$(ZSTORE_REQUESTS=$requests ZSTORE_EVENTS=$events LD_LIBRARY_PATH=$libdir \
         "$work/example") || fail "README's example failed"
[[ $output =~ ^colour\ =\ blue\ \(rev\ [0-9]+\)$ ]] || fail "README's example printed: $output"

# The installed command finds the installed library by itself.
env -u LD_LIBRARY_PATH "$prefix/bin/zstore" --requests "$requests" get config colour \
    >"$work/get.out" || fail "the installed zstore failed"
[ "$(cat "$work/get.out")" = blue ] || fail "zstore get printed: $(cat "$work/get.out")"

kill -TERM "$broker_pid"
status=0
wait "$broker_pid" || status=$?
broker_pid=
[ "$status" = 0 ] || fail "zstore-broker exited with $status"
echo "install_test: ok ($prefix)"

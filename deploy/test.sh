#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing
# (apt-get when root), configures, builds, and runs every test with ctest, first
# in an AddressSanitizer + UBSan build, then in the optimised build.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

zstore_ensure_packages "${ZSTORE_BUILD_PACKAGES[@]}" "${ZSTORE_TEST_PACKAGES[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for variant in asan release; do
    dir="$ZSTORE_ROOT/build/$variant"
    zstore_log "build: $variant"
    if [ "$variant" = asan ]; then
        zstore_build "$dir" -DCMAKE_BUILD_TYPE=Debug -DZSTORE_SANITIZE=ON
    else
        zstore_build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    zstore_log "test: $variant"
    ctest --test-dir "$dir" --output-on-failure --parallel "$(nproc)"
done

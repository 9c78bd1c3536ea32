#!/usr/bin/env bash
# Starts zstore-broker, from a fresh Debian machine: installs what is missing
# (apt-get when root), configures and builds the optimised build, then runs the
# broker in the foreground. With no arguments it uses the embedded default:
# ./zstore.db under the current directory, requests on tcp://127.0.0.1:5670,
# events on tcp://127.0.0.1:5671. Arguments go to zstore-broker (see --help).
# Ctrl-C stops it in order.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

zstore_ensure_packages "${ZSTORE_BUILD_PACKAGES[@]}"
zstore_log "build: release"
zstore_build "$ZSTORE_ROOT/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
exec "$ZSTORE_ROOT/build/release/broker/zstore-broker" "$@"

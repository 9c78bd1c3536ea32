#!/usr/bin/env bash
# zstore beside Redis, in one run on this machine: installs what is missing
# (the build's packages, redis-server and redis-tools; apt-get when root),
# builds the optimised build, then for each row starts a fresh zstore-broker
# and a fresh redis-server on loopback, drives both with the same shape
# (tests/bench_broker for zstore, redis-benchmark for Redis) and prints a
# table with the ratio zstore/Redis per row.
#
#   deploy/bench.sh [--quick]        --quick: fewer operations (a smoke run)
#
# Durable rows compare zstore's durable mode (sync=full: the reply leaves
# after the commit holding it is on disk) with Redis `appendfsync always`;
# memory rows compare zstore on :memory: with Redis without persistence.
#
# The load generator speaks ZMTP 3.0 on plain sockets from one thread
# (bench_broker --wire zmtp, tests/bench_zmtp.c), as light as
# redis-benchmark is beside Redis: on two cores, a client's own CPU is taken
# from the server. Rows marked "libzmq clients" use a libzmq DEALER or SUB
# per client instead (what most services will link), for comparison.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

zstore_ensure_packages "${ZSTORE_BUILD_PACKAGES[@]}" redis-server redis-tools python3
zstore_log "build: release"
BUILD="$ZSTORE_ROOT/build/release"
zstore_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2

BENCH="$BUILD/tests/bench_broker"
BROKER="$BUILD/broker/zstore-broker"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zstore-bench.XXXXXX")
SCALE=1
[ "${1:-}" = "--quick" ] && SCALE=10
N_SET=$((200000 / SCALE)); N_DURABLE=$((50000 / SCALE)); N_GET=$((400000 / SCALE))
KEYS=100000; VALUE=64

BROKER_PID=""; REDIS_PID=""
cleanup() {
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_broker ARGS... : a fresh broker on ephemeral ports; sets REQ, EV, BROKER_PID.
start_broker() {
    stop_broker
    exec {out}< <(exec "$BROKER" --requests 'tcp://127.0.0.1:*' --events 'tcp://127.0.0.1:*' "$@")
    BROKER_PID=$!
    local line
    while read -r -t 30 -u "$out" line; do
        case "$line" in
            "zstore-broker: requests "*) REQ=${line#zstore-broker: requests } ;;
            "zstore-broker: events "*)   EV=${line#zstore-broker: events } ;;
            "zstore-broker: ready"*)     return 0 ;;
        esac
    done
    zstore_log "the broker did not start"; exit 1
}
stop_broker() {
    if [ -n "$BROKER_PID" ]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
    BROKER_PID=""
}

# start_redis durable|memory : a fresh redis-server on a free port; sets REDIS_PORT.
start_redis() {
    stop_redis
    REDIS_PORT=$(free_port)
    local persistence=(--save '' --appendonly no)
    [ "$1" = durable ] && persistence=(--save '' --appendonly yes --appendfsync always)
    mkdir -p "$WORK/redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" \
        --daemonize no --logfile "$WORK/redis.log" "${persistence[@]}" &
    REDIS_PID=$!
    until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.05; done
}
stop_redis() {
    if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
    REDIS_PID=""; rm -rf "$WORK/redis"
}

field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }

# zbench ARGS... : the load generator with the light client.
zbench() { "$BENCH" --wire zmtp "$@"; }
# latency OUTPUT : "p50 X p99 Y" from a request run's output.
latency() { echo "p50 $(field p50_us <<<"$1") p99 $(field p99_us <<<"$1")"; }

# redis_rps TEST CLIENTS PIPELINE OPS : redis-benchmark's requests per second.
redis_rps() {
    redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -t "$1" -c "$2" -P "$3" -n "$4" \
        -d "$VALUE" -r "$KEYS" --csv 2>/dev/null | awk -F'"' 'NR==2 {print $4}'
}

ROWS=()
row() { ROWS+=("$(printf '%-44s %12s %12s %8s  %s' "$1" "$2" "$3" "$4" "$5")"); printf '%s\n' "${ROWS[-1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '%-44s %12s %12s %8s  %s\n' "row" "zstore/s" "redis/s" "ratio" "zstore latency (us)"

# --- the transport's ceiling ---------------------------------------------------
# A bare libzmq ROUTER that decodes each request and answers at once (no
# engine): what any broker on libzmq can do here with this load generator.
stop_broker
exec {out}< <(exec "$BENCH" --mode echo-server --requests 'tcp://127.0.0.1:*')
BROKER_PID=$!
while read -r -t 30 -u "$out" line; do
    case "$line" in
        "bench_broker: requests "*) REQ=${line#bench_broker: requests } ;;
        "bench_broker: ready"*) break ;;
    esac
done
out=$(zbench --mode set --requests "$REQ" --clients 50 --inflight 1 --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
ECHO=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
start_redis memory; r=$(redis_rps set 50 1 "$N_SET")
row "bare libzmq ROUTER echo, 50 clients x 1" "$ECHO" "$r" "$(ratio "$ECHO" "$r")" "$lat"
out=$("$BENCH" --wire libzmq --mode set --requests "$REQ" --clients 50 --inflight 1 --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
ECHO_LIBZMQ=$(field ops_per_sec <<<"$out")
row "  the same, libzmq clients" "$ECHO_LIBZMQ" "$r" "$(ratio "$ECHO_LIBZMQ" "$r")" "$(latency "$out")"
stop_redis

# --- memory rows --------------------------------------------------------------
start_broker --db :memory:
out=$(zbench --mode set --requests "$REQ" --clients 50 --inflight 1 --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
start_redis memory; r=$(redis_rps set 50 1 "$N_SET")
row "set, memory, 50 clients x 1" "$z" "$r" "$(ratio "$z" "$r")" "$lat; $(ratio "$z" "$ECHO") of echo"
out=$("$BENCH" --wire libzmq --mode set --requests "$REQ" --clients 50 --inflight 1 --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out")
row "  the same, libzmq clients" "$z" "$r" "$(ratio "$z" "$r")" "$(latency "$out"); $(ratio "$z" "$ECHO_LIBZMQ") of its echo"

out=$(zbench --mode get --requests "$REQ" --clients 50 --inflight 1 --ops "$N_GET" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -t set -n "$KEYS" -r "$KEYS" -d "$VALUE" -q >/dev/null 2>&1
r=$(redis_rps get 50 1 "$N_GET")
row "get, memory, 50 clients x 1" "$z" "$r" "$(ratio "$z" "$r")" "$lat"

out=$(zbench --mode mix --requests "$REQ" --clients 50 --inflight 1 --ops "$N_GET" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
row "90/10 get/set, memory, 50 clients x 1" "$z" "-" "-" "$lat"

out=$(zbench --mode set --requests "$REQ" --clients 16 --inflight 16 --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
r=$(redis_rps set 16 16 "$N_SET")
row "set, memory, 16 clients x 16 in flight" "$z" "$r" "$(ratio "$z" "$r")" "$lat"
stop_redis

# --- durable rows -------------------------------------------------------------
start_broker --db "$WORK/durable.db" --sync full
out=$(zbench --mode set --requests "$REQ" --clients 50 --inflight 1 --ops "$N_DURABLE" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
start_redis durable; r=$(redis_rps set 50 1 "$N_DURABLE")
row "set, durable, 50 clients x 1" "$z" "$r" "$(ratio "$z" "$r")" "$lat"

out=$(zbench --mode set --requests "$REQ" --clients 16 --inflight 16 --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
z=$(field ops_per_sec <<<"$out"); lat=$(latency "$out")
r=$(redis_rps set 16 16 "$N_SET")
row "set, durable, 16 clients x 16 in flight" "$z" "$r" "$(ratio "$z" "$r")" "$lat"
stop_redis; stop_broker
# The engine alone, 100 sets per fsync'd transaction: first doing what the
# broker's engine did for that load (same random keys, history on), then
# the best case (sequential keys, no history: few pages per commit).
engine=$("$BENCH" --mode engine --db "$WORK/engine.db" --sync full --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE")
e=$(field ops_per_sec <<<"$engine")
row "  engine alone, same keys and history" "$e" "-" "$(ratio "$z" "$e")" "ratio: pipelined zstore / engine"
rm -f "$WORK"/engine.db*
engine=$("$BENCH" --mode engine --db "$WORK/engine.db" --sync full --ops "$N_SET" --keys "$KEYS" --value-size "$VALUE" --key-order sequential --history 0)
e=$(field ops_per_sec <<<"$engine")
row "  engine alone, sequential keys, no history" "$e" "-" "$(ratio "$z" "$e")" "ratio: pipelined zstore / engine"

# --- events ---------------------------------------------------------------------
start_broker --db :memory:
out=$(zbench --mode events --requests "$REQ" --events "$EV" --rate 10000 --subscribers 10 --ops $((100000 / SCALE)) --value-size "$VALUE")
row "events: 10 subscribers, 10k sets/s (memory)" "$(field events_per_sec <<<"$out")" "-" "-" \
    "lost $(field lost <<<"$out") p50 $(field p50_us <<<"$out") p99 $(field p99_us <<<"$out")"
out=$("$BENCH" --wire libzmq --mode events --requests "$REQ" --events "$EV" --rate 10000 --subscribers 10 --ops $((100000 / SCALE)) --value-size "$VALUE")
row "  the same, libzmq subscribers" "$(field events_per_sec <<<"$out")" "-" "-" \
    "lost $(field lost <<<"$out") p50 $(field p50_us <<<"$out") p99 $(field p99_us <<<"$out")"
start_broker --db "$WORK/events.db" --sync full
out=$(zbench --mode events --requests "$REQ" --events "$EV" --rate 10000 --subscribers 10 --ops $((100000 / SCALE)) --value-size "$VALUE")
row "events: 10 subscribers, 10k sets/s (durable)" "$(field events_per_sec <<<"$out")" "-" "-" \
    "lost $(field lost <<<"$out") p50 $(field p50_us <<<"$out") p99 $(field p99_us <<<"$out")"
stop_broker

# --- a million keys -------------------------------------------------------------
MILLION=$((1000000 / SCALE))
start_broker --db "$WORK/million.db" --sync normal
zbench --mode set --requests "$REQ" --clients 16 --inflight 16 --ops "$MILLION" --keys "$MILLION" >/dev/null
rss=$(awk '/VmRSS/ {print $2}' "/proc/$BROKER_PID/status")
row "1M keys in a file: broker RSS (KiB)" "$rss" "-" "-" "target < 65536"
stop_broker
# A million keys that expire at once, written while the broker does not purge;
# then a broker that purges them in its bounded steps while 16 clients read.
printf 'timers\n    purge-interval = 3600000\n' >"$WORK/nopurge.cfg"
start_broker --db "$WORK/purge.db" --sync normal --config "$WORK/nopurge.cfg"
zbench --mode set --requests "$REQ" --clients 16 --inflight 16 --ops "$MILLION" --keys "$MILLION" --ttl 1 >/dev/null
start_broker --db "$WORK/purge.db" --sync normal
out=$(zbench --mode purge --requests "$REQ" --clients 16 --inflight 1 --ops $((400000 / SCALE)) --keys "$MILLION")
row "gets while 1M expired keys are purged" "$(field ops_per_sec <<<"$out")" "-" "-" \
    "p99.9 $(field p999_us <<<"$out") max $(field max_us <<<"$out") (target p99.9 < 10000)"
stop_broker

#!/usr/bin/env bash
# bench-bus.sh - `make bench-bus`: the bus alone (build/bench-bus: zone-side
# publisher -> Redis -> gateway-side subscriber through src/bus, real
# batched envelopes) against one redis-server and against a 3-shard Redis
# Cluster (3 masters + 3 replicas) on this machine, beside redis-benchmark
# PUBLISH / SPUBLISH on the same servers in the same run. Prints a
# markdown table for docs/PERFORMANCE.md.
#
# Environment: BENCH_SECONDS (5), BENCH_GATEWAYS (6 channels),
# BENCH_PER_FRAME (20 client messages per bus message), REDIS_PORT (26700;
# the cluster uses REDIS_PORT+10 .. +15 and their +10000 bus ports).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_BUS_BIN:-$ROOT/build/bench-bus}
SECS=${BENCH_SECONDS:-5}
GWS=${BENCH_GATEWAYS:-6}
PER=${BENCH_PER_FRAME:-20}
PORT=${REDIS_PORT:-26700}
CPORT=$((PORT + 10))
[ -x "$BIN" ] || { echo "build first: make" >&2; exit 1; }
DIR=$(mktemp -d /tmp/wod-bench-bus.XXXXXX)
chmod 711 "$DIR"
SUB_PID=""
cleanup() {
  [ -n "$SUB_PID" ] && kill "$SUB_PID" 2>/dev/null || true
  bash "$ROOT/scripts/services.sh" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

single=$(bash "$ROOT/scripts/services.sh" redis "$PORT" "$DIR" | tail -n 1)
cluster=$(bash "$ROOT/scripts/services.sh" redis-cluster "$CPORT" "$DIR" 3 | tail -n 1)

# Requests/s from `redis-benchmark -q` ("CMD ...: 123456.79 requests per second").
rb() { redis-benchmark -q "$@" 2>/dev/null | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1; }

bus=$("$BIN" "$single" "$SECS" "$GWS" "$PER")
frame_bytes=$(sed 's/.*frame_bytes=\([0-9]*\).*/\1/' <<<"$bus")
big=$(head -c "$frame_bytes" /dev/zero | tr '\0' x)
N=$((200000))
# Redis's own ceiling: 50 clients, pipelined 32 deep, one subscriber reading.
redis-cli -p "$PORT" SUBSCRIBE bench >/dev/null &
SUB_PID=$!
sleep 0.3
pub64=$(rb -p "$PORT" -n "$N" -c 50 -P 32 PUBLISH bench 0123456789012345678901234567890123456789012345678901234567890123)
pubbig=$(rb -p "$PORT" -n $((N / 4)) -c 50 -P 32 PUBLISH bench "$big")
kill "$SUB_PID" 2>/dev/null || true
SUB_PID=""
spub64=$(rb -p "$PORT" -n "$N" -c 50 -P 32 SPUBLISH bench 0123456789012345678901234567890123456789012345678901234567890123)

cbus=$("$BIN" "$cluster" "$SECS" "$GWS" "$PER")
# --cluster: {tag} becomes a hash tag of each master's slots, so load spreads over the shards.
cspub64=$(rb --cluster -p "$CPORT" -n "$N" -c 50 -P 32 "SPUBLISH" "bench{tag}" 0123456789012345678901234567890123456789012345678901234567890123)
cspubbig=$(rb --cluster -p "$CPORT" -n $((N / 4)) -c 50 -P 32 "SPUBLISH" "bench{tag}" "$big")

field() { sed "s/.*$1=\([0-9.]*\).*/\1/" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "bench-bus: $GWS gateway channels, $PER client messages (DELIVER records) per bus message of $frame_bytes bytes, ${SECS} s"
echo
echo "| target | bus messages/s (PUBLISH/s) | client messages/s delivered | redis-benchmark, 64 B | redis-benchmark, $frame_bytes B | bus PUBLISH/s ÷ Redis same-size ceiling | client msgs/s ÷ Redis 64 B ceiling |"
echo "|---|---|---|---|---|---|---|"
echo "| one redis-server | $(field frames_recv_s "$bus") | $(field client_msgs_s "$bus") | PUBLISH $pub64 (1 subscriber), SPUBLISH $spub64 | PUBLISH $pubbig (1 subscriber) | $(ratio "$(field frames_recv_s "$bus")" "$pubbig") | $(ratio "$(field client_msgs_s "$bus")" "$pub64") |"
echo "| Redis Cluster, 3 shards (+3 replicas) | $(field frames_recv_s "$cbus") | $(field client_msgs_s "$cbus") | SPUBLISH $cspub64 (no subscriber) | SPUBLISH $cspubbig (no subscriber) | $(ratio "$(field frames_recv_s "$cbus")" "$cspubbig") | $(ratio "$(field client_msgs_s "$cbus")" "$cspub64") |"

#!/usr/bin/env bash
# bench-world.sh - `make bench-world`: a world-sized run on this machine.
#
#   play (default): Redis + PostgreSQL + 2 zone servers (zone-1: zone-crossroads,
#     zone-2: zone-forest, zone-city) + 2 gateways; WORLD_CLIENTS players split
#     over several wod-bench processes (WORLD_PROCS, each with --sources so no
#     process or source address runs out of descriptors or ports), half on each
#     gateway, crossing zone borders (--travel) and shouting (--shout-hz).
#     Prints connected, chat/shout p99, move->roster p99, per-process CPU and
#     RSS over the measured window, and Redis ops/s (INFO stats). The bots are
#     compact clients (the web client's encoding) and shout once in ~8 min:
#     4,000 JSON bots in three small zones (~16 KB per roster, 2 a second
#     each, and every shout heard by the whole zone) pushed the gateways'
#     subscriptions past Redis's 32 MB pubsub output-buffer limit on this
#     2-core machine, and Redis cut them (docs/OPERATIONS.md).
#   idle (`--idle`): 3 gateways + 2 zone servers, WORLD_CLIENTS authenticated
#     idle clients (--auth-only); prints RSS per client of each gateway
#     (target: 50,000 clients, <= 16 KiB each). The clients go through haproxy
#     (deploy/haproxy.cfg) when it can hold them: it needs two descriptors per
#     client in one process, so past half the descriptor limit (20,000 here:
#     ~9,900 clients) they connect to the gateways directly, round robin, as
#     DNS or an L4 balancer with several addresses would spread them
#     (WORLD_LB=haproxy|direct overrides the choice).
#
# Env: BUILD (build), WORLD_CLIENTS (play 2500, idle 50000), WORLD_PROCS (4;
# idle: at least enough for 18,000 clients each, a multiple of the gateways),
# WORLD_RAMP (20), WORLD_DURATION (30), WORLD_ARGS (extra wod-bench arguments).
# Every process is started here on 127.0.0.1 and stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/wod-server
BENCH=$BUILD/wod-bench
MODE=play
[ "${1:-}" = --idle ] && MODE=idle
if [ "$MODE" = idle ]; then N=${WORLD_CLIENTS:-50000}; else N=${WORLD_CLIENTS:-2500}; fi
PROCS=${WORLD_PROCS:-4}
FDMAX=$(ulimit -Hn)
LB=direct
if [ "$MODE" = idle ]; then
    LB=${WORLD_LB:-auto}
    if [ "$LB" = auto ]; then
        LB=haproxy
        ((2 * N + 200 > FDMAX)) && LB=direct
    fi
    min=$(((N + 17999) / 18000))
    ((PROCS < min)) && PROCS=$min
    PROCS=$(((PROCS + 2) / 3 * 3))
fi
RAMP=${WORLD_RAMP:-20}
DURATION=${WORLD_DURATION:-30}
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/wod-world.XXXXXX)
chmod 711 "$WORK"
PIDS=()
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "bench-world.sh: build first (make build)" >&2; exit 1; }

cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
    bash "$ROOT/scripts/services.sh" stop "$WORK" >/dev/null 2>&1 || true
    if [ "${WORLD_KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_http() {
    local i
    for i in $(seq 300); do curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "bench-world.sh: nothing answers on port $1" >&2
    return 1
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

REDIS_PORT=$(free_port)
REDIS_URL=$(bash scripts/services.sh redis "$REDIS_PORT" "$WORK" | tail -n 1)
DATABASE_URL=${WORLD_DATABASE_URL:-$(bash scripts/services.sh postgres "$(free_port)" "$WORK" | tail -n 1)}
[ -n "$REDIS_URL" ] && [ -n "$DATABASE_URL" ] || { echo "bench-world.sh: Redis or PostgreSQL did not start" >&2; exit 1; }
echo "redis $REDIS_URL, database $DATABASE_URL, work $WORK" >&2

declare -A NAME_OF
start() { # name role env...
    local name=$1 role=$2
    shift 2
    # every bot is a guest from 127.0.0.x: lift the per-address account-creation limit
    env NPCS=0 LOG_LEVEL=warn BIND_ADDRESS=127.0.0.1 AUTH_GUEST_PER_IP_MINUTE=0 \
        AUTH_GUEST_PER_IP_HOUR=0 REDIS_URL="$REDIS_URL" DATABASE_URL="$DATABASE_URL" "$@" \
        "$BIN" "$role" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    NAME_OF[$!]=$name
}
start zone-1 zone SERVER_ID=zone-1 ASSIGNED_ZONES=zone-crossroads ZONE_HTTP_PORT="$(free_port)"
start zone-2 zone SERVER_ID=zone-2 ASSIGNED_ZONES=zone-forest,zone-city ZONE_HTTP_PORT="$(free_port)"
GW_PORTS=()
NGW=2
[ "$MODE" = idle ] && NGW=3
for i in $(seq 1 "$NGW"); do
    p=$(free_port)
    GW_PORTS+=("$p")
    start "gateway-$i" gateway SERVER_ID="gateway-$i" GATEWAY_PORT="$p"
done
SERVERS=("${PIDS[@]}")
for p in "${GW_PORTS[@]}"; do wait_http "$p"; done
URLS=()
if [ "$LB" = haproxy ]; then
    command -v haproxy >/dev/null || { echo "bench-world.sh: haproxy is not installed (scripts/deps.sh)" >&2; exit 1; }
    HP=$(free_port)
    sed -e "s/@PORT@/$HP/" deploy/haproxy.cfg >"$WORK/haproxy.cfg"
    for i in $(seq 1 "$NGW"); do
        echo "    server gateway-$i 127.0.0.1:${GW_PORTS[$((i - 1))]} check inter 1s fall 2 rise 1" >>"$WORK/haproxy.cfg"
    done
    haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
    PIDS+=($!)
    NAME_OF[$!]=haproxy
    wait_http "$HP"
    URLS=("ws://127.0.0.1:$HP/ws")
else
    [ "$MODE" = idle ] && echo "bench-world.sh: $N clients need $((2 * N)) descriptors in haproxy (limit $FDMAX a process): clients connect to the $NGW gateways directly" >&2
    for p in "${GW_PORTS[@]}"; do URLS+=("ws://127.0.0.1:$p/ws"); done
fi
sleep 2 # zone claims and heartbeats

declare -A RSS0
for p in "${SERVERS[@]}"; do RSS0[$p]=$(rss_kib "$p"); done
per=$(((N + PROCS - 1) / PROCS))
BPIDS=()
for k in $(seq 0 $((PROCS - 1))); do
    n=$per
    ((k * per + n > N)) && n=$((N - k * per))
    ((n > 0)) || continue
    url=${URLS[$((k % ${#URLS[@]}))]}
    # one source address per 10,000 connections (the kernel picks ports per
    # source and destination, so processes may share addresses)
    src=$(((n + 9999) / 10000))
    if [ "$MODE" = idle ]; then
        args=(--clients "$n" --ramp "$RAMP" --duration "$DURATION" --auth-only --ping-hz 0.1)
    else
        args=(--clients "$n" --ramp "$RAMP" --duration "$DURATION" --move-hz 1 --chat-hz 0.1
            --shout-hz 0.002 --travel 30 --spread 150 --encoding compact)
    fi
    # shellcheck disable=SC2206
    args+=(--sources "$src" ${WORLD_ARGS:-})
    echo "wod-bench --url $url ${args[*]}" >"$WORK/bench-$k.cmd"
    "$BENCH" --url "$url" --json "${args[@]}" >"$WORK/bench-$k.out" 2>"$WORK/bench-$k.err" &
    BPIDS+=($!)
done

# the measured window: from when every bench has formed its crowd
for k in "${!BPIDS[@]}"; do
    until grep -q 'crowd formed' "$WORK/bench-$k.err" 2>/dev/null; do
        kill -0 "${BPIDS[$k]}" 2>/dev/null || break
        sleep 0.2
    done
done
t0=$(date +%s.%N)
declare -A C0
for p in "${SERVERS[@]}" "${BPIDS[@]}"; do C0[$p]=$(cpu_ticks "$p"); done
R0=$(redis-cli -u "$REDIS_URL" INFO stats | awk -F: '/^total_commands_processed/{print $2+0}')
sleep "$(awk -v d="$DURATION" 'BEGIN{print (d > 4 ? d - 2 : d / 2)}')"
t1=$(date +%s.%N)
declare -A C1 RSS1
for p in "${SERVERS[@]}" "${BPIDS[@]}"; do C1[$p]=$(cpu_ticks "$p"); RSS1[$p]=$(rss_kib "$p"); done
R1=$(redis-cli -u "$REDIS_URL" INFO stats | awk -F: '/^total_commands_processed/{print $2+0}')
INST=$(redis-cli -u "$REDIS_URL" INFO stats | awk -F: '/^instantaneous_ops_per_sec/{print $2+0}')
for p in "${BPIDS[@]}"; do wait "$p" || true; done

TCK=$(getconf CLK_TCK)
{
    echo "mode=$MODE lb=$LB clients=$N procs=$PROCS window=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')"
    for p in "${SERVERS[@]}"; do
        echo "proc ${NAME_OF[$p]} $(awk -v a="${C0[$p]}" -v b="${C1[$p]}" -v t="$TCK" -v s="$t0" -v e="$t1" 'BEGIN{if (b < a) print "ended"; else printf "%.3f", (b-a)/t/(e-s)}') ${RSS0[$p]} ${RSS1[$p]}"
    done
    for p in "${BPIDS[@]}"; do
        echo "proc wod-bench-$p $(awk -v a="${C0[$p]}" -v b="${C1[$p]}" -v t="$TCK" -v s="$t0" -v e="$t1" 'BEGIN{if (b < a) print "ended"; else printf "%.3f", (b-a)/t/(e-s)}') 0 ${RSS1[$p]}"
    done
    echo "redis $(awk -v a="$R0" -v b="$R1" -v s="$t0" -v e="$t1" 'BEGIN{printf "%.0f", (b-a)/(e-s)}') $INST"
} >"$WORK/summary.txt"

$PY - "$WORK" <<'PYEOF'
# Prints the run's table from the bench JSON lines and summary.txt.
import glob, json, os, sys

work = sys.argv[1]
runs = []
for p in sorted(glob.glob(os.path.join(work, "bench-*.out"))):
    lines = [l for l in open(p).read().splitlines() if l.startswith("{")]
    if lines:
        runs.append(json.loads(lines[-1]))
lines = open(os.path.join(work, "summary.txt")).read().splitlines()
head = dict(kv.split("=") for kv in lines[0].split())
print(f"\nbench-world ({head['mode']}): {head['clients']} clients over {head['procs']} wod-bench "
      f"processes, window {head['window']} s")
if head["mode"] == "idle":
    print("  clients reach the gateways " + ("through haproxy (leastconn)" if head["lb"] == "haproxy" else
          "directly, round robin (haproxy would need two descriptors per client in one process)"))
conn = sum(r["clients_connected"] for r in runs)
failed = sum(r["clients_failed"] for r in runs)
print(f"  connected {conn:,}, failed {failed:,}")


def worst(key, p="p99"):
    v = [r[key][p] for r in runs if r.get(key, {}).get("samples")]
    return f"{max(v):.1f} ms" if v else "-"


if head["mode"] == "play":
    print(f"  chat p99 {worst('latency_ms')}, shout p99 {worst('shout_ms')}, "
          f"move->roster p99 {worst('move_roster_ms')} (worst of the processes)")
    print(f"  border crossings {sum(r.get('crossings', 0) for r in runs):,} "
          f"({sum(r.get('cross_failed', 0) for r in runs):,} without state_update), "
          f"shouts heard {sum(r.get('shouts_heard', 0) for r in runs):,}")
print("  process        cores   RSS before (MiB)   RSS in window (MiB)   KiB per client")
per_gw = [l for l in lines[1:] if l.startswith("proc gateway")]
for l in lines[1:]:
    if not l.startswith("proc "):
        continue
    _, name, cores, r0, r1 = l.split()
    r0, r1 = int(r0), int(r1)
    kib = ""
    if name.startswith("gateway") and conn:
        kib = f"{(r1 - r0) / (conn / max(1, len(per_gw))):.1f}"
    if cores == "ended":  # a bench that formed its crowd first also ends first
        print(f"  {name:<14} ended before the window closed")
        continue
    print(f"  {name:<14} {float(cores):5.2f}   {r0 / 1024:16.1f}   {r1 / 1024:19.1f}   {kib:>14}")
redis = [l for l in lines if l.startswith("redis ")][0].split()
print(f"  Redis: {int(redis[1]):,} commands/s over the window (instantaneous_ops_per_sec {redis[2]})")
if head["mode"] == "idle":
    print("  (KiB per client assumes the clients are spread evenly over the gateways; target <= 16 KiB,"
          " 50,000 clients)")
for p in sorted(glob.glob(os.path.join(work, "bench-*.cmd"))):
    print("  " + open(p).read().strip())
PYEOF

#!/usr/bin/env bash
# The seed's distributed layout on one machine, all on loopback:
#   redis-server, PostgreSQL, zone-1 (zone-crossroads),
#   zone-2 (zone-forest,zone-city), and one gateway on GATEWAY_PORT
#   (or, with --gateways N, N gateways behind haproxy on GATEWAY_PORT).
# Options: --gateways N, --standby (adds zone-3 with ZONE_STANDBY=1),
#          --redis-cluster N (a Redis Cluster of N masters + N replicas on
#            REDIS_PORT.. instead of one redis-server; REDIS_URL becomes
#            redis+cluster://..., cluster-node-timeout 2000 ms),
#          --pg-replicas N (N streaming replicas of PostgreSQL on PG_PORT+1..,
#            pg_basebackup -R; DATABASE_REPLICA_URLS lists them),
#          --data DIR (keep data there; default: a throwaway temp dir).
# Ctrl-C stops everything it started, by PID.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${WOD_SERVER_BIN:-$ROOT/build/wod-server}
GATEWAYS=1
STANDBY=0
DATA=""
REDIS_CLUSTER=0
PG_REPLICAS=0
while (($#)); do
  case $1 in
    --gateways) GATEWAYS=$2; shift 2 ;;
    --standby) STANDBY=1; shift ;;
    --data) DATA=$2; shift 2 ;;
    --redis-cluster) REDIS_CLUSTER=$2; shift 2 ;;
    --pg-replicas) PG_REPLICAS=$2; shift 2 ;;
    *) echo "usage: $0 [--gateways N] [--standby] [--redis-cluster N] [--pg-replicas N] [--data DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "build first: make" >&2; exit 1; }
if [ -z "$DATA" ]; then DATA=$(mktemp -d /tmp/wod-cluster.XXXXXX); fi
mkdir -p "$DATA"; chmod 711 "$DATA"
PORT=${GATEWAY_PORT:-3100}
REDIS_PORT=${REDIS_PORT:-6390}
PG_PORT=${PG_PORT:-5440}
PIDS=()
stop() {
  echo "stopping..."
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$ROOT/scripts/services.sh" stop "$DATA" >/dev/null 2>&1 || true
}
trap stop EXIT INT TERM

if ((REDIS_CLUSTER)); then
  REDIS_URL=$(REDIS_CLUSTER_NODE_TIMEOUT=${REDIS_CLUSTER_NODE_TIMEOUT:-2000} \
    bash "$ROOT/scripts/services.sh" redis-cluster "$REDIS_PORT" "$DATA" "$REDIS_CLUSTER" | tail -n 1)
else
  REDIS_URL=$(bash "$ROOT/scripts/services.sh" redis "$REDIS_PORT" "$DATA" | tail -n 1)
fi
[ -n "$REDIS_URL" ] || { echo "Redis did not start on port $REDIS_PORT" >&2; exit 1; }
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(bash "$ROOT/scripts/services.sh" postgres "$PG_PORT" "$DATA" | tail -n 1)
  [ -n "$DATABASE_URL" ] || { echo "PostgreSQL did not start on port $PG_PORT" >&2; exit 1; }
  replicas=()
  for i in $(seq 1 "$PG_REPLICAS"); do
    u=$(bash "$ROOT/scripts/services.sh" postgres-replica $((PG_PORT + i)) "$DATA" "$PG_PORT" | tail -n 1)
    [ -n "$u" ] || { echo "PostgreSQL replica did not start on port $((PG_PORT + i))" >&2; exit 1; }
    replicas+=("$u")
  done
  DATABASE_REPLICA_URLS=$(IFS=,; echo "${replicas[*]}")
  export DATABASE_REPLICA_URLS
fi
export REDIS_URL DATABASE_URL
export BIND_ADDRESS=127.0.0.1
echo "redis $REDIS_URL, database $DATABASE_URL${DATABASE_REPLICA_URLS:+ (replicas $DATABASE_REPLICA_URLS)}, logs in $DATA"

start() { # name role env...
  local name=$1 role=$2; shift 2
  env "$@" "$BIN" "$role" >"$DATA/$name.log" 2>&1 &
  PIDS+=($!)
  echo "$name (pid $!)"
}
start zone-1 zone SERVER_ID=zone-1 ASSIGNED_ZONES=zone-crossroads ZONE_HTTP_PORT=$((PORT + 100))
start zone-2 zone SERVER_ID=zone-2 ASSIGNED_ZONES=zone-forest,zone-city ZONE_HTTP_PORT=$((PORT + 101))
if ((STANDBY)); then
  start zone-3 zone SERVER_ID=zone-3 ZONE_STANDBY=1 ZONE_HTTP_PORT=$((PORT + 102))
fi
if ((GATEWAYS == 1)); then
  start gateway-1 gateway SERVER_ID=gateway-1 GATEWAY_PORT=$PORT
else
  for i in $(seq 1 "$GATEWAYS"); do
    start "gateway-$i" gateway SERVER_ID="gateway-$i" GATEWAY_PORT=$((PORT + i))
  done
  # haproxy.cfg lists gateways on PORT+1.. ; generate the server lines
  cfg="$DATA/haproxy.cfg"
  sed -e "s/@PORT@/$PORT/" "$ROOT/deploy/haproxy.cfg" >"$cfg"
  for i in $(seq 1 "$GATEWAYS"); do
    echo "    server gateway-$i 127.0.0.1:$((PORT + i)) check inter 1s fall 2 rise 1" >>"$cfg"
  done
  ulimit -n 131072 2>/dev/null || true
  haproxy -f "$cfg" -db >"$DATA/haproxy.log" 2>&1 &
  PIDS+=($!)
  echo "haproxy on :$PORT (pid $!)"
fi
# Ready when every listener accepts connections.
wait_port() {
  local deadline=$((SECONDS + 30))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "nothing listens on port $1; see $DATA/*.log" >&2; return 1; }
    sleep 0.1
  done
}
if ((GATEWAYS > 1)); then
  for i in $(seq 1 "$GATEWAYS"); do wait_port $((PORT + i)); done
fi
wait_port "$PORT"
echo "cluster up: http://127.0.0.1:$PORT/api/servers (Ctrl-C to stop)"
# Keep running when one process dies (that is what failover is for); stop
# when all are gone or on Ctrl-C.
live=("${PIDS[@]}")
while ((${#live[@]})); do
  wait -n "${live[@]}" 2>/dev/null || true
  still=()
  for p in "${live[@]}"; do
    if kill -0 "$p" 2>/dev/null; then still+=("$p"); else echo "pid $p exited (logs in $DATA)"; fi
  done
  live=("${still[@]+"${still[@]}"}")
done

#!/usr/bin/env bash
# services.sh - throwaway redis-server / PostgreSQL on loopback, for tests
# and scripts. Everything lives in DIR (data, logs, pid files); `stop DIR`
# stops exactly the processes started there, by PID.
#
#   scripts/services.sh redis PORT DIR     # prints redis://127.0.0.1:PORT
#   scripts/services.sh postgres PORT DIR  # prints postgres://postgres@127.0.0.1:PORT/wod
#   scripts/services.sh redis-cluster PORT DIR [MASTERS]
#       # MASTERS masters (default 3) + one replica each on PORT, PORT+1, ...
#       # (cluster-node-timeout REDIS_CLUSTER_NODE_TIMEOUT ms, default 2000);
#       # prints redis+cluster://127.0.0.1:PORT,... (the masters as seeds).
#       # Node i's pid file is DIR/redis-cluster/PORT+i.pid.
#   scripts/services.sh postgres-replica PORT DIR PRIMARY_PORT
#       # a streaming replica (pg_basebackup -R) of the postgres started in
#       # DIR on PRIMARY_PORT; prints postgres://postgres@127.0.0.1:PORT/wod
#   scripts/services.sh stop DIR
#
# Can also be sourced: the functions services_redis, services_postgres and
# services_stop do the same. Environment: PG_BIN (default
# /usr/lib/postgresql/15/bin), SERVICES_TIMEOUT (seconds, default 30).
# As root, DIR must be reachable by the postgres user (its parents
# searchable); DIR itself is made mode 711.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SERVICES_TIMEOUT=${SERVICES_TIMEOUT:-30}

services__die() {
    echo "services.sh: $*" >&2
    return 1
}

# Waits until "$@" succeeds, or SERVICES_TIMEOUT seconds pass.
services__wait() {
    local deadline=$((SECONDS + SERVICES_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

services__check_port() {
    if [[ ! $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then
        services__die "bad port '$1'"
    fi
}

services_redis() {
    local port=$1 dir=$2
    services__check_port "$port" || return 1
    mkdir -p "$dir/redis"
    dir=$(cd "$dir" && pwd)
    local pidfile=$dir/redis.pid
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        services__die "redis already running in $dir (pid $(cat "$pidfile"))"
        return 1
    fi
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize no --dir "$dir/redis" --logfile "$dir/redis.log" \
        --pidfile "$dir/redis-server.pid" >/dev/null 2>&1 &
    echo $! >"$pidfile"
    if ! services__wait redis-cli -h 127.0.0.1 -p "$port" ping; then
        services__die "redis did not answer PING on port $port (log: $dir/redis.log)"
        return 1
    fi
    # PONG from someone else's server on that port would fool the wait.
    kill -0 "$(cat "$pidfile")" 2>/dev/null || {
        services__die "redis exited (port $port taken?); see $dir/redis.log"
        return 1
    }
    echo "redis://127.0.0.1:$port"
}

services_redis_cluster() {
    local port=$1 dir=$2 masters=${3:-3}
    services__check_port "$port" || return 1
    [[ $masters =~ ^[0-9]+$ ]] && ((masters >= 3)) || {
        services__die "a cluster needs at least 3 masters (got '$masters')"
        return 1
    }
    local n=$((masters * 2)) timeout=${REDIS_CLUSTER_NODE_TIMEOUT:-2000} i p
    services__check_port $((port + n - 1)) || return 1
    mkdir -p "$dir/redis-cluster"
    dir=$(cd "$dir" && pwd)/redis-cluster
    local addrs=() seeds=()
    for ((i = 0; i < n; i++)); do
        p=$((port + i))
        mkdir -p "$dir/$p"
        rm -f "$dir/$p/nodes.conf"
        redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
            --cluster-enabled yes --cluster-config-file "$dir/$p/nodes.conf" \
            --cluster-node-timeout "$timeout" --daemonize no --dir "$dir/$p" \
            --logfile "$dir/$p.log" >/dev/null 2>&1 &
        echo $! >"$dir/$p.pid"
        addrs+=("127.0.0.1:$p")
        ((i < masters)) && seeds+=("127.0.0.1:$p")
    done
    for ((i = 0; i < n; i++)); do
        p=$((port + i))
        if ! services__wait redis-cli -h 127.0.0.1 -p "$p" ping ||
            ! kill -0 "$(cat "$dir/$p.pid")" 2>/dev/null; then
            services__die "cluster node on port $p did not start; see $dir/$p.log"
            return 1
        fi
    done
    # The first MASTERS addresses become masters, the rest their replicas.
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
        >"$dir/create.log" 2>&1 || {
        services__die "redis-cli --cluster create failed; see $dir/create.log"
        return 1
    }
    for ((i = 0; i < n; i++)); do
        p=$((port + i))
        services__wait services__cluster_ok "$p" || {
            services__die "cluster_state not ok on port $p"
            return 1
        }
    done
    local IFS=,
    echo "redis+cluster://${seeds[*]}"
}

services__cluster_ok() {
    redis-cli -h 127.0.0.1 -p "$1" cluster info | grep -q '^cluster_state:ok'
}

# initdb and postgres refuse to run as root: run them as `postgres`.
services__as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

services_postgres() {
    local port=$1 dir=$2
    services__check_port "$port" || return 1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local data=$dir/pgdata pidfile=$dir/postgres.pid
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        services__die "postgres already running in $dir (pid $(cat "$pidfile"))"
        return 1
    fi
    mkdir -p "$data" "$dir/pgsock"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$data" "$dir/pgsock" && chmod 711 "$dir"
    chmod 700 "$data"
    if [[ ! -f $data/PG_VERSION ]]; then
        services__as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            services__die "initdb failed; see $dir/initdb.log"
            return 1
        }
    fi
    [[ $(id -u) -eq 0 ]] && touch "$dir/postgres.log" && chown postgres "$dir/postgres.log"
    local as_pg=()
    [[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)
    # Not through a function: $! must be the process itself, not a subshell.
    "${as_pg[@]}" "$PG_BIN/postgres" -D "$data" -p "$port" -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$dir/pgsock" -c fsync=off -c full_page_writes=off \
        -c synchronous_commit=off >>"$dir/postgres.log" 2>&1 &
    # $! is runuser (or postgres itself); the postmaster writes its own pid.
    echo $! >"$pidfile"
    if ! services__wait "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        services__die "postgres not ready on port $port; see $dir/postgres.log"
        return 1
    fi
    head -1 "$data/postmaster.pid" >"$dir/postmaster.pid"
    if ! services__as_pg psql -h "$dir/pgsock" -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'wod'" | grep -q 1; then
        services__as_pg psql -h "$dir/pgsock" -p "$port" -U postgres -d postgres -qc \
            "CREATE DATABASE wod" >>"$dir/postgres.log" 2>&1 || {
            services__die "cannot create database wod; see $dir/postgres.log"
            return 1
        }
    fi
    echo "postgres://postgres@127.0.0.1:$port/wod"
}

services_postgres_replica() {
    local port=$1 dir=$2 primary=$3
    services__check_port "$port" || return 1
    services__check_port "$primary" || return 1
    dir=$(cd "$dir" && pwd)
    local data=$dir/pgreplica-$port pidfile=$dir/replica-$port.pid
    if [[ ! -f $data/PG_VERSION ]]; then
        mkdir -p "$data"
        [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$data"
        chmod 700 "$data"
        services__as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres \
            -D "$data" -R -X stream -c fast >"$dir/basebackup-$port.log" 2>&1 || {
            services__die "pg_basebackup failed; see $dir/basebackup-$port.log"
            return 1
        }
    fi
    [[ $(id -u) -eq 0 ]] && touch "$dir/replica-$port.log" && chown postgres "$dir/replica-$port.log"
    local as_pg=()
    [[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)
    "${as_pg[@]}" "$PG_BIN/postgres" -D "$data" -p "$port" -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$dir/pgsock" -c hot_standby=on \
        >>"$dir/replica-$port.log" 2>&1 &
    echo $! >"$pidfile"
    if ! services__wait "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        services__die "replica not ready on port $port; see $dir/replica-$port.log"
        return 1
    fi
    head -1 "$data/postmaster.pid" >"$dir/replica-$port.postmaster.pid"
    echo "postgres://postgres@127.0.0.1:$port/wod"
}

# Sends signal $2 (default TERM) to the pid in pid file $1, waits for it
# to exit, then KILLs it.
services__stop_pidfile() {
    local file=$1 sig=${2:-TERM} pid
    [[ -f $file ]] || return 0
    pid=$(cat "$file")
    rm -f "$file"
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -"$sig" "$pid" 2>/dev/null || return 0
    local deadline=$((SECONDS + SERVICES_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
}

services_stop() {
    local dir=$1
    [[ -d $dir ]] || services__die "no such directory $dir" || return 1
    # The postmaster first (SIGINT = fast shutdown: clients are cut, not
    # waited for), then its runuser parent.
    local f
    for f in "$dir"/replica-*.postmaster.pid; do
        [[ -f $f ]] && services__stop_pidfile "$f" INT
    done
    for f in "$dir"/replica-*.pid; do
        [[ -f $f ]] && services__stop_pidfile "$f"
    done
    services__stop_pidfile "$dir/postmaster.pid" INT
    services__stop_pidfile "$dir/postgres.pid"
    services__stop_pidfile "$dir/redis.pid"
    rm -f "$dir/redis-server.pid"
    # All cluster nodes at once (each takes a moment), then wait for each.
    for f in "$dir"/redis-cluster/*.pid; do
        # || true: a node already gone (a test SIGKILLed it) must not stop the rest.
        [[ -f $f ]] && { kill -TERM "$(cat "$f")" 2>/dev/null || true; }
    done
    for f in "$dir"/redis-cluster/*.pid; do
        [[ -f $f ]] && services__stop_pidfile "$f"
    done
    return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    case ${1:-} in
    redis) (($# == 3)) || { echo "usage: $0 redis PORT DIR" >&2; exit 2; }; services_redis "$2" "$3" ;;
    postgres) (($# == 3)) || { echo "usage: $0 postgres PORT DIR" >&2; exit 2; }; services_postgres "$2" "$3" ;;
    redis-cluster) (($# == 3 || $# == 4)) || { echo "usage: $0 redis-cluster PORT DIR [MASTERS]" >&2; exit 2; }; services_redis_cluster "$2" "$3" "${4:-3}" ;;
    postgres-replica) (($# == 4)) || { echo "usage: $0 postgres-replica PORT DIR PRIMARY_PORT" >&2; exit 2; }; services_postgres_replica "$2" "$3" "$4" ;;
    stop) (($# == 2)) || { echo "usage: $0 stop DIR" >&2; exit 2; }; services_stop "$2" ;;
    *)
        echo "usage: $0 redis PORT DIR | redis-cluster PORT DIR [MASTERS] | postgres PORT DIR | postgres-replica PORT DIR PRIMARY_PORT | stop DIR" >&2
        exit 2
        ;;
    esac
fi

#!/usr/bin/env bash
# services.sh - throwaway redis-server / PostgreSQL on loopback, for tests
# and scripts. Everything lives in DIR (data, logs, pid files); `stop DIR`
# stops exactly the processes started there, by PID.
#
#   scripts/services.sh redis PORT DIR     # prints redis://127.0.0.1:PORT
#   scripts/services.sh postgres PORT DIR  # prints postgres://postgres@127.0.0.1:PORT/wod
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
    services__stop_pidfile "$dir/postmaster.pid" INT
    services__stop_pidfile "$dir/postgres.pid"
    services__stop_pidfile "$dir/redis.pid"
    rm -f "$dir/redis-server.pid"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    case ${1:-} in
    redis) (($# == 3)) || { echo "usage: $0 redis PORT DIR" >&2; exit 2; }; services_redis "$2" "$3" ;;
    postgres) (($# == 3)) || { echo "usage: $0 postgres PORT DIR" >&2; exit 2; }; services_postgres "$2" "$3" ;;
    stop) (($# == 2)) || { echo "usage: $0 stop DIR" >&2; exit 2; }; services_stop "$2" ;;
    *)
        echo "usage: $0 redis PORT DIR | postgres PORT DIR | stop DIR" >&2
        exit 2
        ;;
    esac
fi

#!/usr/bin/env bash
# Installs every Debian package wod-server needs to build, test and run.
# Idempotent: does nothing when everything is present. Non-interactive.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-tidy
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libhiredis-dev libpq-dev
  libsqlite3-dev libjansson-dev libsodium-dev uthash-dev libcmocka-dev
  python3-pytest python3-websockets python3-socketio python3-aiohttp python3-redis python3-psycopg2
  redis-server postgresql haproxy nodejs npm chromium
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from outside Debian (e.g. a nodesource node); accept any working npm.
if command -v npm >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == npm || $p == nodejs ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

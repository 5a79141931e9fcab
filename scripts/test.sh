#!/usr/bin/env bash
# The test command (`make test`): installs what is missing, builds with
# -Werror and runs the unit tests and `make lint` (layering, clang-tidy), then builds with
# ASan+UBSan and runs the unit tests and every end-to-end test (pytest,
# node, browser) once, then a short smoke run of every libFuzzer target.
# Redis and PostgreSQL are started on loopback in a throwaway directory and
# stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
PY=/usr/bin/python3

bash scripts/deps.sh

SERVICES_DIR=$(mktemp -d /tmp/wod-test-services.XXXXXX)
cleanup() { bash scripts/services.sh stop "$SERVICES_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
REDIS_PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
PG_PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
bash scripts/services.sh redis "$REDIS_PORT" "$SERVICES_DIR" >/dev/null
export WOD_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export WOD_TEST_PG_URL=$(bash scripts/services.sh postgres "$PG_PORT" "$SERVICES_DIR" | tail -n 1)
# A 3+3 Redis Cluster for test_redis_cluster: 6 free ports and their +10000 cluster bus ports.
CLUSTER_PORT=$($PY -c '
import random, socket
def free(p):
    with socket.socket() as s:
        try: s.bind(("127.0.0.1", p)); return True
        except OSError: return False
for _ in range(200):
    b = random.randrange(20000, 29000)
    if all(free(p) and free(p + 10000) for p in range(b, b + 6)): print(b); break')
export WOD_TEST_REDIS_CLUSTER_URL=$(bash scripts/services.sh redis-cluster "$CLUSTER_PORT" "$SERVICES_DIR" 3 | tail -n 1)
echo "test services: $WOD_TEST_REDIS_URL $WOD_TEST_PG_URL $WOD_TEST_REDIS_CLUSTER_URL"

if [ -f tests/e2e/node/package-lock.json ]; then
  (cd tests/e2e/node && npm ci --no-audit --no-fund --loglevel=error)
fi
# Browser tests: playwright-core drives Debian's chromium (never a downloaded browser).
if [ -f tests/e2e/browser/package-lock.json ]; then
  (cd tests/e2e/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

build_and_unit() {
  local dir=$1; shift
  echo "=== build $dir ($*)"
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
  echo "=== unit tests ($dir)"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS")
}

e2e() {
  local dir=$1; shift
  echo "=== end-to-end tests ($dir: ${*:-all})"
  WOD_SERVER_BIN="$ROOT/$dir/wod-server" $PY -m pytest -q -p no:cacheprovider --durations=12 "${@:-tests/e2e}"
}

node_and_browser() {
  local dir=$1
  if [ -d tests/e2e/node/node_modules ]; then
    echo "=== node tests ($dir)"
    (cd tests/e2e/node && WOD_SERVER_BIN="$ROOT/$dir/wod-server" node --test)
  fi
  echo "=== browser tests ($dir; screenshots in $dir/test-output/browser)"
  (cd tests/e2e/browser && WOD_SERVER_BIN="$ROOT/$dir/wod-server" \
     WOD_TEST_OUTPUT="$ROOT/$dir/test-output/browser" node --test)
}

# The release build (-Werror) runs the unit tests and the e2e checks that
# only mean something without sanitizers (RSS bounds, the load tool's own
# figures) and the load tools' smoke runs (bench peers, bench-world.sh:
# they test the tools, and run only there); every other e2e test then runs
# once under ASan+UBSan, which keeps the whole run within CI's time budget
# on two cores.
build_and_unit build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "=== lint (layering check, clang-tidy)"
BUILD=build bash scripts/lint.sh
e2e build tests/e2e/test_hostile_io.py tests/e2e/test_bench_smoke.py

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
build_and_unit build-san -DWOD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
e2e build-san tests/e2e --ignore=tests/e2e/test_bench_smoke.py
node_and_browser build-san
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "=== fuzz smoke (${FUZZ_SECONDS}s per target)"
CC=clang cmake -S . -B build-fuzz -DWOD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$JOBS"
FUZZ_SEED=${FUZZ_SEED:-1} bash scripts/fuzz.sh build-fuzz "$FUZZ_SECONDS"
echo "all tests passed"

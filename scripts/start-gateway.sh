#!/usr/bin/env bash
# Starts one gateway (seed: "npm run start:gateway"). Configure with the
# environment or ./.env: SERVER_ID, GATEWAY_PORT, REDIS_URL, DATABASE_URL.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SERVER_ID=${SERVER_ID:-gateway-1}
exec "${WOD_SERVER_BIN:-$ROOT/build/wod-server}" gateway

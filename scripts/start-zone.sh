#!/usr/bin/env bash
# Starts one zone server (seed: "npm run start:zone"). Configure with the
# environment or ./.env: SERVER_ID, ASSIGNED_ZONES (empty = every
# unclaimed zone), ZONE_STANDBY, TICK_RATE, REDIS_URL, DATABASE_URL,
# ZONE_HTTP_PORT.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SERVER_ID=${SERVER_ID:-zone-1}
exec "${WOD_SERVER_BIN:-$ROOT/build/wod-server}" zone

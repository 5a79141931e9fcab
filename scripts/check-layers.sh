#!/usr/bin/env bash
# check-layers.sh - fails when a file includes a header of a folder its
# layer may not depend on. The order (docs/ARCHITECTURE.md):
#   core <- game <- proto <- sim / store / redis / net <- bus / registry
#        <- gateway / zone / tools <- main.c
set -euo pipefail
cd "$(dirname "$0")/.."

# What each folder may include besides itself: lower layers only, and not
# every lower one (the bus carries records, it knows nothing of the sim).
allowed() {
    case "$1" in
    core) echo "" ;;
    game) echo "core" ;;
    proto) echo "core game" ;;
    sim | store) echo "core game proto" ;;
    redis | net) echo "core" ;;
    bus | registry) echo "core game proto redis" ;;
    gateway) echo "core game proto store redis net bus registry" ;;
    zone) echo "core game proto sim store redis net bus registry" ;;
    tools) echo "core game proto redis bus registry" ;;
    main) echo "core game proto sim store redis net bus registry gateway zone tools" ;;
    *) echo "unknown" ;;
    esac
}

status=0
while IFS= read -r file; do
    rel=${file#src/}
    case "$rel" in
    */*) from=${rel%%/*} ;;
    *) from=main ;;
    esac
    ok=$(allowed "$from")
    if [ "$ok" = unknown ]; then
        echo "check-layers: $file: folder src/$from/ has no place in the layer order" >&2
        status=1
        continue
    fi
    while IFS= read -r line; do
        inc=$(sed -E 's/^#include "([^"]+)".*/\1/' <<<"$line")
        inc=${inc#../}
        case "$inc" in
        */*) to=${inc%%/*} ;;
        *) continue ;; # a header of the same folder
        esac
        [ "$to" = "$from" ] && continue
        if [[ " $ok " != *" $to "* ]]; then
            echo "check-layers: $file includes \"$inc\": src/$from/ may include only: ${ok:-nothing}" >&2
            status=1
        fi
    done < <(grep -E '^#include "' "$file" || true)
done < <(find src -name '*.[ch]' | sort)
[ "$status" -eq 0 ] && echo "check-layers: ok"
exit "$status"

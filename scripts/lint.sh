#!/usr/bin/env bash
# lint.sh - `make lint`: the layering check, then clang-tidy with the
# repository's .clang-tidy over every source file (zero findings wanted).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check-layers.sh
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# compile_commands.json needs the generated sources too
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
out=$(find src tools tests/unit -name '*.c' -print0 |
    xargs -0 -P "$(nproc)" -n 8 clang-tidy -p "$BUILD" --quiet 2>/dev/null || true)
findings=$(grep -E ': (warning|error): ' <<<"$out" | sort -u || true)
if [ -n "$findings" ]; then
    echo "$findings"
    echo "clang-tidy: $(wc -l <<<"$findings") finding(s)" >&2
    exit 1
fi
echo "clang-tidy: ok"

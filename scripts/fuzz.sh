#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, with a
# corpus directory per target under BUILD_DIR/corpus. Fails on a finding.
# FUZZ_SEED fixes libFuzzer's seed (make test: a gate that replays the seed
# corpus and the same mutations each run); unset, every run explores anew.
set -euo pipefail
dir=${1:-build-fuzz}
secs=${2:-60}
found=0
for f in "$dir"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  mkdir -p "$dir/corpus/$name"
  seeds=tests/fuzz/corpus/$name
  echo "fuzz: $name for ${secs}s"
  "$f" -max_total_time="$secs" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -print_final_stats=0 "$dir/corpus/$name" \
    $( [ -d "$seeds" ] && echo "$seeds" ) >"$dir/$name.log" 2>&1 || { tail -40 "$dir/$name.log"; found=1; }
done
exit $found

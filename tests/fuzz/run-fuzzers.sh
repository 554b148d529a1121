#!/usr/bin/env bash
# make fuzz: run every libFuzzer target of BUILD (built with BLEAK_FUZZ=ON)
# for SECONDS each, on a corpus that starts from tests/fuzz/seeds/<target>.
# Crashes land in BUILD/fuzz-artifacts/.
#   tests/fuzz/run-fuzzers.sh BUILD [SECONDS]
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD [SECONDS]}
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/fuzz-artifacts"
rc=0
for seeds in "$here"/seeds/*/; do
  t=$(basename "$seeds")
  corpus="$build/fuzz-corpus/$t"
  mkdir -p "$corpus"
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz_$t for ${secs}s"
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$t-" "$corpus" 2>&1 | tail -4 || rc=1
done
exit $rc

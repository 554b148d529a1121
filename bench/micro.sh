#!/usr/bin/env bash
# The notification microbenchmark (micro_notify.c): rate and heap
# allocations from a plain run, instructions per notification from two
# callgrind runs (N and 0 notifications after the same warm-up: the
# difference over N). Prints one line of JSON.
#   bench/micro.sh BUILD_DIR [N] [PAYLOAD]
set -euo pipefail
build=${1:?usage: micro.sh BUILD_DIR [N] [PAYLOAD]}
n=${2:-20000}
len=${3:-244}
bin="$build/bench/micro_notify"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plain=$("$bin" 200000 "$len")
ir() { # total instructions of a callgrind run of micro_notify $1
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" "$bin" "$1" "$len" >/dev/null 2>&1
  sed -n 's/^summary: \([0-9]*\).*/\1/p' "$tmp/cg.$1"
}
ir_n=$(ir "$n")
ir_0=$(ir 0)
per=$(( (ir_n - ir_0) / n ))
printf '%s\n' "${plain%\}}, \"instructions_per_notification\": $per, \"callgrind_n\": $n}"

#!/usr/bin/env bash
# make bench: one boot of the test guest runs the benchmark jobs (EATT on,
# with the hci backend; EATT off; the virtual peripheral), then the notification microbenchmark
# runs here, and bench/report.py prints the table and writes
# docs/benchmarks.md and docs/benchmarks.svg.
#   bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
work=$(realpath -m "$build/bench-vm")
export BLEAK_VM_WORKDIR=$work
# A failed job still leaves its results: report what there is.
# Three jobs in one boot: more than the test suite's budget.
BLEAK_VM_TIMEOUT=${BLEAK_VM_TIMEOUT:-2700} \
  "$project/tests/vm/run-suite.sh" "$here/guest-eatt-on.sh" "$here/guest-eatt-off.sh" \
  "$here/guest-virtual.sh" ||
  echo "bench: some guest runs failed (see $work/*.log); reporting what ran" >&2
mkdir -p "$work/results"
"$here/micro.sh" "$build" > "$work/results/micro.json"
/usr/bin/python3 "$here/report.py" "$work/results" "$project/docs"

#!/usr/bin/env bash
# make demo: boot the guest once and run the `bleak` tool against the
# peripheral fixture (tests/vm/demo-job.sh): scan, services, battery level,
# five heart-rate notifications, disconnect.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BLEAK_VM_WORKDIR=${BLEAK_VM_WORKDIR:-$here/../../build/vm-demo} exec "$here/run-suite.sh" "$here/demo-job.sh"

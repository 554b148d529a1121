#!/usr/bin/env bash
# make demo (until the bleak tool exists, see issue 4): boot the guest, start
# BlueZ and the peripheral fixture, find it from the second controller, and
# show what it advertises and what python3-bleak reads from it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BLEAK_VM_WORKDIR=${BLEAK_VM_WORKDIR:-$here/../../build/vm-demo} exec "$here/run-suite.sh" "$here/demo-job.sh"

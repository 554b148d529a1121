#!/bin/sh
# make bench, first job: EATT as bluetoothd sets it up by default; and the
# hci backend (which does not use EATT).
BENCH_EATT=on BENCH_HCI=1 exec sh "$BLEAK_PROJECT/bench/guest-bench.sh"

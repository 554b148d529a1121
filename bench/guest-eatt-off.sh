#!/bin/sh
# make bench, second job: bluetoothd's EATT off ([GATT] Channels = 1).
BENCH_EATT=off exec sh "$BLEAK_PROJECT/bench/guest-bench.sh"

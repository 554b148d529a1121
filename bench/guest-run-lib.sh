#!/bin/sh
# Sourced by make bench's guest jobs (guest-bench.sh, guest-virtual.sh):
# what their client runs share. A job defines run NAME CMD... (one client
# run, its result in $res/NAME.json) before calling these.

# bench_result NAME RC T0: the run said ok when it exited 0 with a result.
bench_result() {
  if [ "$2" = 0 ] && [ -s "$res/$1.json" ]; then
    vm_ok "$1 ($(( $(date +%s) - $3 )) s)"
  else
    vm_not_ok "$1" "exit $2: $(tail -3 "$res/$1.err" | tr '\n' '|')"
  fi
}

# run_twice NAME CMD...: a main run, once more when it failed, said in the
# log (python3-bleak failed to find the peripheral in some runs of this
# guest; bluetoothd 5.66's peripheral side now and then answers a write
# with Unlikely Error).
run_twice() {
  run "$@"
  if [ ! -s "$res/$1.json" ]; then
    vm_log "$1 failed: once more"
    run "$@"
  fi
}

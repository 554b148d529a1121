#!/bin/sh
# Guest job of make bench (bench/run.sh): the benchmark peripheral on hci1;
# then, one after the other, python3-bleak and bleak-c (backend bluez) from
# hci0, and bleak-c with backend hci over btvirt's H4 socket; each run is
# captured on the peripheral's controller (btmon) for the ATT requests of
# discovery. BENCH_EATT=on|off: bluetoothd's EATT as configured by default,
# or off ([GATT] Channels = 1). BENCH_HCI=1: run the hci backend too (it
# does not use EATT: once is enough). Results: /run/job/results/*.json.
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
. "$BLEAK_PROJECT/bench/guest-run-lib.sh"
eatt=${BENCH_EATT:-on}
res=/run/job/results
mkdir -p "$res"
bin=$BLEAK_PROJECT/build/bench/bench_client
py=$BLEAK_PROJECT/bench/bleak_bench.py
args=${BENCH_ARGS:-"--cycles 4 --reads 200 --writes 200 --long 20 --wwr 1000 --notify 1000"}

# Cache = always: BlueZ keeps the database of devices it does not bond
# with, so that "connect with a cache" means the same for every client.
conf=/run/job/main-$eatt.conf
{
  echo "[GATT]"
  echo "Cache = always"
  [ "$eatt" = off ] && echo "Channels = 1"
} > "$conf"
VM_BTVIRT_ARGS=-s
vm_start_bluez 2 -f "$conf" || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }

ready=$VM_STATE/bench.json
vm_bg /usr/bin/python3 "$BLEAK_PROJECT/bench/bench_peripheral.py" --adapter hci1 --ready "$ready" \
  >"$VM_STATE/bench-peripheral.log" 2>&1
vm_wait_for "the bench peripheral" 30 test -s "$ready" ||
  { cat "$VM_STATE/bench-peripheral.log"; vm_not_ok "bench peripheral up"; vm_summary; exit 1; }
addr=$(sed -n 's/.*"address": "\([^"]*\)".*/\1/p' "$ready")
vm_log "bench peripheral at $addr, EATT $eatt"
dev=/org/bluez/hci0/dev_$(echo "$addr" | tr : _)

# run NAME CMD...: cold (the central forgets the peer and its database,
# then finds it again by a scan: known, not cached), captured; every
# client, python3-bleak too, starts so. bluetoothctl's plain discovery
# finds the peer every time; the kernel's service discovery (what a
# discovery filter makes BlueZ use) found nothing for whole runs when the
# device was unknown. python3-bleak reports a device BlueZ knew before
# its scan only when a property changes: its scan asks for DuplicateData,
# so each advertisement's ManufacturerData is one (bleak_bench.py).
scan_first=1
run() {
  _name=$1; shift
  vm_wait_no_links 0
  busctl call org.bluez /org/bluez/hci0 org.bluez.Adapter1 RemoveDevice o "$dev" >/dev/null 2>&1
  for _try in 1 2 3; do
    [ "$scan_first" = 1 ] || break
    timeout 15 bluetoothctl --timeout 6 scan on >/dev/null 2>&1
    busctl introspect org.bluez "$dev" >/dev/null 2>&1 && break
  done
  btmon -i hci1 -w "$res/$_name.btsnoop" >/dev/null 2>&1 &
  _mon=$!
  sleep 1
  _t0=$(date +%s)
  timeout 900 "$@" >"$res/$_name.json" 2>"$res/$_name.err"
  _rc=$?
  kill "$_mon" 2>/dev/null; wait "$_mon" 2>/dev/null
  bench_result "$_name" "$_rc" "$_t0"
}

hci="env BLEAK_BACKEND=hci BLEAK_HCI=unix:/tmp/bt-server-le"
# Cold connects, each in a fresh process after the central forgot the
# peer (the main runs' first connect is one too): a few samples each.
for n in 1 2 3; do
  run "eatt-$eatt-bleak-cold$n" /usr/bin/python3 "$py" "$addr" --cycles 1 --connect-only 1
  # Debug logging: each fill of the object tree (a GetManagedObjects) is
  # logged, and the report counts them per process.
  run "eatt-$eatt-bluez-cold$n" env BLEAK_BACKEND=bluez BLEAK_LOGGING=debug "$bin" "$addr" \
    --cycles 1 --connect-only 1
  if [ "${BENCH_HCI:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    run "eatt-$eatt-hci-cold$n" $hci "$bin" "$addr" --cycles 1 --connect-only 1
  fi
done
# shellcheck disable=SC2086
run_twice "eatt-$eatt-bleak" /usr/bin/python3 "$py" "$addr" $args
# shellcheck disable=SC2086
run_twice "eatt-$eatt-bluez" env BLEAK_BACKEND=bluez "$bin" "$addr" $args
if [ "${BENCH_HCI:-0}" = 1 ]; then
  # shellcheck disable=SC2086
  run_twice "eatt-$eatt-hci" $hci BLEAK_BTSNOOP="$res/eatt-$eatt-hci-host.btsnoop" "$bin" "$addr" $args
fi
vm_summary

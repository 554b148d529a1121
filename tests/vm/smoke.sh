#!/bin/sh
# Guest smoke test: BlueZ runs, the fixture serves on hci1, and a scan from
# the second controller (hci0) finds it by address and advertised name.
# (Connecting is the conformance suite's business: see README, quirks.)
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"

if vm_start_bluez 2; then vm_ok "bluez stack up (btvirt, dbus, bluetoothd, 2 controllers)"
else vm_not_ok "bluez stack up"; vm_summary; exit 1; fi
if vm_start_fixture hci1; then vm_ok "fixture registered and advertising on hci1"
else vm_not_ok "fixture registered"; vm_summary; exit 1; fi

# btvirt drops some advertising reports: scan in bounded rounds.
found=""
for round in 1 2 3 4 5; do
  out=$(timeout 8 btmgmt --index 0 find -l 2>&1 || true)
  btmgmt --index 0 stop-find >/dev/null 2>&1 || true
  if echo "$out" | grep -qi "$FIXTURE_ADDR"; then found=$out; break; fi
  vm_log "scan round $round: fixture not seen yet"
done
if [ -n "$found" ]; then vm_ok "hci0 discovers the fixture's address $FIXTURE_ADDR"
else vm_not_ok "hci0 discovers the fixture" "last scan: $out"; fi
if echo "$found" | grep -q "name $FIXTURE_NAME"; then vm_ok "the advertised name is $FIXTURE_NAME"
else vm_not_ok "advertised name" "$(echo "$found" | grep -i -A3 "$FIXTURE_ADDR")"; fi

vm_summary

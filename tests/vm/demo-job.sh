#!/bin/sh
# make demo, in the guest: the `bleak` tool against the peripheral fixture.
# BlueZ runs two emulated controllers: hci1 serves the fixture ("bleak-fx",
# a heart-rate sensor with a battery and custom services), hci0 is ours.
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
bleak="$BLEAK_PROJECT/build/tools/bleak"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }
# show CMD...: print the command, run it, pass its exit status on.
show() { say "bleak $*"; timeout 60 "$bleak" "$@"; }

vm_check "BlueZ up: emulated controllers hci0 and hci1, dbus, bluetoothd" vm_start_bluez 2
vm_check "the peripheral fixture advertises on hci1" vm_start_fixture hci1
A=$FIXTURE_ADDR

# btvirt drops advertising reports now and then: up to three scans.
for round in 1 2 3; do
  say "bleak scan --timeout 5"
  timeout 60 "$bleak" scan --timeout 5 | tee /run/job/demo-scan.txt
  grep -qi "$A" /run/job/demo-scan.txt && break
done
grep -qi "$A" /run/job/demo-scan.txt && vm_ok "scan found bleak-fx at $A" || vm_not_ok "scan found the fixture"

# A connect right after a scan sometimes stalls in this guest: one retry.
again() { "$@" || { echo "(once more)"; "$@"; }; }
again show services "$A" && vm_ok "services: the GATT tree" || vm_not_ok "services"
again show read "$A" 2a19 | tee /run/job/demo-battery.txt
level=$(cat /run/job/demo-battery.txt | tail -1)
[ -n "$level" ] && echo "battery level: $((0x${level:-0}))%" && vm_ok "battery level read" || vm_not_ok "battery level"
again show notify "$A" 2a37 --count 5 | tee /run/job/demo-hr.txt
n=0
while read -r t v; do
  n=$((n + 1)); echo "  heart rate $n: $((0x$(echo "$v" | cut -c3-4))) bpm at ${t}s"
done < /run/job/demo-hr.txt
[ "$n" = 5 ] && vm_ok "five heart-rate notifications, then disconnected" || vm_not_ok "five notifications ($n)"
vm_summary

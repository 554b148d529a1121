#!/bin/sh
# The demo, in the guest.
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
vm_check "BlueZ up: btvirt controllers hci0 and hci1, dbus, bluetoothd" vm_start_bluez 2
vm_check "the peripheral fixture serves on hci1" vm_start_fixture hci1
echo "# scanning from hci0 (btmgmt find) ..."
seen=""
for round in 1 2 3 4 5; do
  out=$(timeout 8 btmgmt --index 0 find -l 2>&1 || true)
  btmgmt --index 0 stop-find >/dev/null 2>&1 || true
  if echo "$out" | grep -qi "$FIXTURE_ADDR"; then seen=$out; break; fi
done
echo "$seen" | grep -i -A4 "$FIXTURE_ADDR" | sed 's/^/#   /'
if [ -n "$seen" ]; then vm_ok "hci0 found $FIXTURE_NAME at $FIXTURE_ADDR"; else vm_not_ok "hci0 found the fixture"; fi
echo "# python3-bleak (the baseline) reads the battery level and a custom value:"
timeout 120 /usr/bin/python3 "$BLEAK_PROJECT/tests/vm/fixture/bleak_check.py" "$FIXTURE_ADDR" 2>&1 | sed 's/^/#   /' || true
vm_summary

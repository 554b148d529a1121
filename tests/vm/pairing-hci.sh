#!/bin/sh
# Guest job: the hci backend's pairing against the kernel's SMP, one
# scenario a process (tests/conformance/pairing.c says what each proves).
# Our stack drives hci0 over the Linux HCI user channel (a constant address:
# a bond made by one process is found by the next); the fixture serves on
# hci1 with bluetoothd's agent of the capability each model needs, passkeys
# exchanged through a file. Between models the peripheral forgets us where
# bluetoothd 5.66 would refuse Just Works re-pairing of a bonded device
# (JustWorksRepairing=never): the peripheral's user "removing the device".
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
bin=${BLEAK_PAIRING:-$BLEAK_PROJECT/build/tests/conformance/pairing}
vm_start_bluez 2 || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }
central=$(btmgmt --index 0 info 2>/dev/null | sed -n 's/^[[:space:]]*addr \([0-9A-F:]\{17\}\).*/\1/p' | head -1)
vm_log "central hci0 at $central"
# bluetoothd takes hci0 back (and powers it) each time a process's user
# channel closes: each step takes it away again once it has.
central_off() {
  vm_wait_for "bluetoothd to power hci0 again" 5 _vm_powered 0 >/dev/null
  btmgmt --index 0 power off >/dev/null 2>&1
  vm_wait_for "hci0 off" 5 sh -c '! btmgmt --index 0 info | grep -q "current settings:.* powered"'
}
export BLEAK_BACKEND=hci
export BLEAK_BOND_DIR=$VM_STATE/bonds
pk=$VM_STATE/passkey
rc=0

fixture() { # CAPABILITY: the fixture (again) with that agent
  if [ -s "$VM_STATE/fixture-hci1.json" ]; then
    kill "$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$VM_STATE/fixture-hci1.json")" 2>/dev/null
    vm_wait_no_links 1
    vm_wait_no_adv 1
  fi
  rm -f "$pk"
  # bluetoothd 5.66 now and then fails an advertisement's registration
  # right after the adapter came up ("Failed to complete registration"):
  # said, and tried once more.
  vm_start_fixture hci1 --agent --agent-capability "$1" --passkey-file "$pk" || {
    vm_log "the fixture did not come up: once more"
    vm_start_fixture hci1 --agent --agent-capability "$1" --passkey-file "$pk"
  } || { vm_not_ok "fixture up ($1)"; rc=1; }
}
forget_central() { btmgmt --index 1 unpair -t 1 "$central" >/dev/null 2>&1 || true; }
peripheral_setting() { # SETTING on|off, with the fixture down (power cycles hci1)
  if [ -s "$VM_STATE/fixture-hci1.json" ]; then
    kill "$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$VM_STATE/fixture-hci1.json")" 2>/dev/null
    rm -f "$VM_STATE/fixture-hci1.json"
    vm_wait_no_links 1
  fi
  btmgmt --index 1 power off >/dev/null 2>&1
  btmgmt --index 1 "$1" "$2" || { vm_not_ok "btmgmt $1 $2"; rc=1; }
  btmgmt --index 1 power on >/dev/null 2>&1
}
step() { # MODE
  central_off
  BLEAK_BTSNOOP=$VM_STATE/pairing-$1.snoop "$bin" "$FIXTURE_ADDR" --hci hci0 --mode "$1" \
    --passkey-file "$pk" --name "$FIXTURE_NAME" || rc=1
  vm_wait_no_links 1
}

echo "# Just Works (LE Secure Connections), on demand; the bond in a new process; unpair"
fixture NoInputNoOutput
step on-demand
step bonded
step unpair
echo "# passkey entry: we show it, the peripheral's user types it (then pair again after unpair)"
fixture KeyboardOnly
step passkey-display
step bonded
step unpair
echo "# passkey entry: the peripheral shows it, we type it"
fixture DisplayOnly
step passkey-enter
step unpair
echo "# numeric comparison"
fixture KeyboardDisplay
step numeric
step unpair
echo "# legacy pairing: the peripheral without Secure Connections"
forget_central
peripheral_setting sc off
fixture NoInputNoOutput
step legacy
step bonded
step unpair
echo "# the bleak tool on hci: pair, the bond listed, unpair"
forget_central
peripheral_setting sc on
fixture NoInputNoOutput
tool() { # DESC WANT_OUTPUT ARGS...: a tool command on hci0
  _d=$1 _w=$2; shift 2
  central_off
  if "$BLEAK_PROJECT/build/tools/bleak" --backend hci --hci hci0 "$@" >"$VM_STATE/tool.out" 2>&1 &&
      grep -q "$_w" "$VM_STATE/tool.out"; then vm_ok "bleak $_d"
  else vm_not_ok "bleak $_d"; sed 's/^/#   /' "$VM_STATE/tool.out"; rc=1; fi
  vm_wait_no_links 1
}
tool "pair" "Paired with" pair "$FIXTURE_ADDR"
tool "bonds lists it" "^$FIXTURE_ADDR .*Secure Connections" bonds
tool "read of the encrypted characteristic with the bond" "secret" read "$FIXTURE_ADDR" \
  b1e5000b-7e57-4c0d-9e00-000000000001 --text
tool "unpair" "Removed the pairing" unpair "$FIXTURE_ADDR"
tool "bonds: none left" "No bonds" bonds
vm_summary || rc=1

echo "# privacy: the peripheral advertises a resolvable private address"
forget_central
peripheral_setting privacy on
fixture NoInputNoOutput
step privacy-pair
step privacy-identity
step unpair
exit $rc

#!/bin/sh
# Guest job: the conformance suite with backend hci (our own host stack).
#  1. Over H4 on btvirt's unix socket (`btvirt -s`): each connection to
#     /tmp/bt-server-le is a fresh emulated LE controller that sees the
#     bluetoothd-managed fixtures. The two-clients check uses a second
#     controller (a second path to the same socket: the hci backend shares
#     one controller per transport spec).
#  2. Over the Linux HCI user channel on hci0, a vhci controller bluetoothd
#     gave up after `btmgmt power off`.
# Pairing: our SMP against the kernel's, bluetoothd's accept-all agent on
# the peripheral side (KeyboardDisplay: Just Works when we have no pairing
# callback, numeric comparison when we do); bonds in a fresh directory per
# run.
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
bin=${BLEAK_CONFORMANCE:-$BLEAK_PROJECT/build/tests/conformance/conformance}
VM_BTVIRT_ARGS=-s
vm_start_bluez 3 || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }
vm_wait_for "btvirt's H4 server" 10 test -S /tmp/bt-server-le ||
  { vm_not_ok "btvirt -s serves /tmp/bt-server-le"; vm_summary; exit 1; }
ln -sf /tmp/bt-server-le /tmp/bt-server-le2
agent="--agent --agent-capability KeyboardDisplay"
vm_start_fixture hci2 $agent || { vm_not_ok "second fixture up"; vm_summary; exit 1; }
second=$FIXTURE_ADDR
vm_start_fixture hci1 $agent || { vm_not_ok "fixture up"; vm_summary; exit 1; }
export BLEAK_BACKEND=hci
export BLEAK_BTSNOOP=/run/job/state/hci-unix.snoop
export BLEAK_BOND_DIR=/run/job/state/bonds-unix
echo "# backend hci over unix:/tmp/bt-server-le"
"$bin" "$FIXTURE_ADDR" --hci unix:/tmp/bt-server-le --second "$second" \
  --second-hci unix:/tmp/bt-server-le2
rc1=$?
echo "# backend hci over the user channel of hci0"
# A fresh fixture: the first run changed its values (writes in flight when
# the link dropped may or may not have landed) and its armed faults.
kill "$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$VM_STATE/fixture-hci1.json")" 2>/dev/null
vm_wait_no_links 1
vm_start_fixture hci1 $agent || { vm_not_ok "fixture up again"; vm_summary; exit 1; }
btmgmt --index 0 power off >/dev/null 2>&1
export BLEAK_BTSNOOP=/run/job/state/hci-user.snoop
export BLEAK_BOND_DIR=/run/job/state/bonds-user
"$bin" "$FIXTURE_ADDR" --hci hci0
rc2=$?
[ "$rc1" = 0 ] && [ "$rc2" = 0 ]

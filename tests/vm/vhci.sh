#!/bin/sh
# Guest job: bleak-vctl --vhci. The virtual controller registered with the
# kernel through /dev/vhci becomes hciN; bluetoothd drives it like any
# controller, and Debian's python3-bleak, our `bleak` tool (backend bluez)
# and the conformance suite reach the virtual fixture
# (tests/vm/fixture/database.json, C0:DE:00:00:00:01) through it: the whole
# Linux stack above a controller that is ours.
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
vctl=$BLEAK_PROJECT/build/tools/bleak-vctl
bleak=$BLEAK_PROJECT/build/tools/bleak
conf=$BLEAK_PROJECT/build/tests/conformance/conformance
db=$BLEAK_PROJECT/tests/vm/fixture/database.json
A=C0:DE:00:00:00:01
out=/run/job/vhci
mkdir -p "$out"
t0=$(date +%s)
fail_now() { vm_not_ok "$1" "${2:-}"; vm_summary; exit 1; }

modprobe hci_vhci 2>/dev/null
vm_wait_for /dev/vhci 5 test -e /dev/vhci || fail_now "/dev/vhci exists"
mkdir -p /run/dbus
dbus-daemon --system --fork --nopidfile || fail_now "system dbus"
vm_bg btmon >"$VM_STATE/btmon.txt" 2>&1
sleep 0.3 # btmon opens its monitor socket: the init it logs is for diagnosis only
vm_bg "$vctl" --vhci --verbose "$db" >"$out/vctl.out" 2>"$VM_STATE/vctl.log"
_hci_line() { grep -q '^hci[0-9]*$' "$out/vctl.out"; }
vm_wait_for "bleak-vctl's hciN" 10 _hci_line || fail_now "bleak-vctl --vhci prints hciN" "$(cat "$VM_STATE/vctl.log")"
hci=$(head -1 "$out/vctl.out"); idx=${hci#hci}
vm_check "bleak-vctl --vhci made $hci, and the kernel has it" test -e "/sys/class/bluetooth/$hci"

vm_bg bluetoothd -n -d -E -P battery,deviceinfo >"$VM_STATE/bluetoothd.log" 2>&1
vm_wait_for "bluetoothd to own $hci" 15 _vm_dbus_adapter "$idx" || fail_now "bluetoothd owns $hci"
btmgmt --index "$idx" power on >/dev/null 2>&1
if vm_wait_for "$hci powered" 15 _vm_powered "$idx"; then vm_ok "$hci powered on: the kernel's init answered"
else fail_now "$hci powered on" "$(btmgmt --index "$idx" info 2>&1; tail -20 "$VM_STATE/vctl.log")"; fi

# Debian's python3-bleak.
py_check() { # OUT: python3-bleak reads two values and takes 3 notifications
  timeout 150 /usr/bin/python3 "$BLEAK_PROJECT/tests/vm/fixture/bleak_check.py" "$A" \
    --adapter "$hci" --notify >"$1" 2>&1 &&
    grep -q '^battery=87 read=hello bleak-c mtu=[0-9]* notifications=3 first=00' "$1"
}
if py_check "$out/py.out"; then
  vm_ok "python3-bleak: connect, Battery Level 87, 3 heart rate notifications"
else vm_not_ok "python3-bleak through $hci" "$(tail -5 "$out/py.out")"; fi
vm_wait_no_links "$idx"

# run KEY ARGS...: our tool on the bluez backend; $rc, output in $out/KEY.*
run() {
  _n=$1; last=$1; shift
  vm_wait_no_links "$idx"
  timeout 60 "$bleak" --backend bluez --adapter "$hci" "$@" </dev/null >"$out/$_n.out" 2>"$out/$_n.err"
  rc=$?
}
expect() { # expect DESC WANT_RC [GREP]
  if [ "$rc" != "$2" ]; then vm_not_ok "$1" "exit $rc, expected $2; stderr: $(head -c 300 "$out/$last.err")"
  elif [ -n "${3:-}" ] && ! grep -q -- "$3" "$out/$last.out"; then
    vm_not_ok "$1" "stdout lacks '$3': $(head -c 300 "$out/$last.out")"
  else vm_ok "$1"; fi
}
c() { echo "b1e5000$1-7e57-4c0d-9e00-000000000001"; }

run scan scan --json --timeout 5
line=$(grep -i "\"address\": \"$A\"" "$out/scan.out")
if echo "$line" | grep -q '"local_name": "bleak-fx"' && echo "$line" | grep -q '"65535": "010203"'; then
  vm_ok "bleak scan on $hci: the virtual fixture, its name and manufacturer data"
else vm_not_ok "bleak scan finds $A" "$(head -c 400 "$out/scan.out"; cat "$out/scan.err")"; fi
run read_battery read "$A" 2a19
expect "bleak read 2a19: 57 (87)" 0 "^57$"
run read_text read "$A" "$(c 1)" --text
expect "bleak read c(1) --text: hello bleak-c" 0 "^hello bleak-c$"
run write write "$A" "$(c 2)" "0a 0b 0c" --response
expect "bleak write c(2)" 0
run read_back read "$A" "$(c 2)"
expect "bleak read c(2) back: 0a0b0c" 0 "^0a0b0c$"
run restore write "$A" "$(c 2)" 00 --response
run notify notify "$A" 2a37 --count 3
expect "bleak notify 2a37 --count 3" 0
n=$(grep -c '^[0-9]*\.[0-9]* 00[0-9a-f][0-9a-f]$' "$out/notify.out")
[ "$n" = 3 ] && vm_ok "3 timestamped heart rate values" || vm_not_ok "3 notifications" "$(cat "$out/notify.out")"

# The conformance suite, backend bluez (what the virtual controller cannot
# do, pairing and encryption, it skips with CONFORMANCE_VCTL=1).
if [ -x "$conf" ]; then
  vm_wait_no_links "$idx"
  BLEAK_BACKEND=bluez CONFORMANCE_VCTL=1 timeout 300 "$conf" "$A" --adapter "$hci" >"$out/conformance.out" 2>&1
  crc=$?
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/conformance.out")
  if [ "$crc" = 0 ] && echo "$summary" | grep -q ', 0 failed$'; then
    vm_ok "conformance (bluez) through $hci: $summary"
  else vm_not_ok "conformance (bluez) through $hci" "exit $crc: $summary; $(grep '^not ok' "$out/conformance.out" | head -5)"; fi
fi

# The soak on the bluez backend: connect, discover, read, write, notify,
# disconnect, 200 cycles through the kernel and bluetoothd (the host's
# soak_vctl does 1000 on hci); fds flat, the RSS slope judged as there.
soak=$BLEAK_PROJECT/build/tests/soak/soak
if [ -x "$soak" ]; then
  vm_wait_no_links "$idx"
  ts=$(date +%s)
  timeout 900 "$soak" "$A" --backend bluez --adapter "$hci" --cycles "${VHCI_SOAK_CYCLES:-200}" \
    --warmup 20 --every 5 >"$out/soak.out" 2>&1
  src=$?
  last=$(tail -1 "$out/soak.out")
  if [ "$src" = 0 ] && echo "$last" | grep -q ' 0 failed$'; then
    vm_ok "soak on bluez through $hci: $last ($(($(date +%s) - ts)) s; $(grep "per 100 cycles" "$out/soak.out" | sed "s/^# //" | tr '\n' ' '))"
  else vm_not_ok "soak on bluez through $hci" "exit $src: $(grep -m3 '^not ok' "$out/soak.out"); $last"; fi
fi

# python3-bleak once more, after every other client.
vm_wait_no_links "$idx"
if py_check "$out/py2.out"; then
  vm_ok "python3-bleak after the other clients"
else vm_not_ok "python3-bleak after the other clients" "$(tail -5 "$out/py2.out")"; fi

vm_log "took $(($(date +%s) - t0)) s"
vm_summary

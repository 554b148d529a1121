# shellcheck shell=sh
# Helpers for guest job scripts (POSIX sh; the guest runs /bin/sh = dash).
# Source it:  . "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
#
#   vm_start_bluez N [bluetoothd-args...]
#       btvirt with N LE controllers (hci0..hciN-1) and an H4 server on
#       /tmp/bt-server-le; the system dbus; bluetoothd; every controller
#       powered. Extra args go to bluetoothd (e.g. -f /run/job/main.conf).
#   vm_start_fixture hciX [--agent]
#       the peripheral fixture on that controller; waits until it serves
#       (registered and advertising) and sets FIXTURE_ADDR and FIXTURE_NAME.
#   vm_wait_for DESC SECONDS CMD...   poll CMD until it succeeds or time out
#   vm_wait_no_links IDX [SECONDS]    until hciIDX has no connection left
#   vm_wait_no_adv IDX [SECONDS]      until bluetoothd advertises nothing on hciIDX
#   vm_ok NAME / vm_not_ok NAME [why] / vm_summary
#       TAP lines and the closing "N passed, N failed" line; vm_summary
#       returns non-zero when anything failed.
#   vm_stop_all    kill what was started (also done at exit)

VM_LIB_DIR=${BLEAK_PROJECT:?BLEAK_PROJECT is not set}/tests/vm
VM_STATE=/run/job/state
VM_PASSED=0
VM_FAILED=0
VM_PIDS=""
mkdir -p "$VM_STATE"

vm_log() { echo "# $*"; }

# vm_wait_for DESC SECONDS CMD...: a bounded poll, 0.1 s apart.
# (Its variables are prefixed: sh has no locals, and callers use _n.)
vm_wait_for() {
  _vwf_desc=$1 _vwf_secs=$2; shift 2
  _vwf_n=$((_vwf_secs * 10))
  while [ "$_vwf_n" -gt 0 ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1; _vwf_n=$((_vwf_n - 1))
  done
  vm_log "timed out after ${_vwf_secs}s waiting for: $_vwf_desc"
  return 1
}

vm_ok() { VM_PASSED=$((VM_PASSED + 1)); echo "ok $((VM_PASSED + VM_FAILED)) - $1"; }
vm_not_ok() {
  VM_FAILED=$((VM_FAILED + 1)); echo "not ok $((VM_PASSED + VM_FAILED)) - $1"
  [ -n "${2:-}" ] && echo "#   $2"
  return 0
}
# vm_check NAME CMD...: one test from a command's exit status.
vm_check() {
  _name=$1; shift
  if "$@"; then vm_ok "$_name"; else vm_not_ok "$_name" "command failed: $*"; fi
}
vm_summary() {
  echo "1..$((VM_PASSED + VM_FAILED))"
  echo "$VM_PASSED passed, $VM_FAILED failed"
  [ "$VM_FAILED" -eq 0 ]
}

vm_bg() { "$@" & VM_PIDS="$VM_PIDS $!"; }

vm_stop_all() {
  for p in $VM_PIDS; do kill "$p" 2>/dev/null; done
  VM_PIDS=""
}
trap vm_stop_all EXIT

_vm_powered() { btmgmt --index "$1" info 2>/dev/null | grep -q 'current settings:.* powered'; }
_vm_dbus_adapter() {
  dbus-send --system --print-reply --dest=org.bluez "/org/bluez/hci$1" \
    org.freedesktop.DBus.Properties.Get string:org.bluez.Adapter1 string:Address
}

vm_start_bluez() {
  _count=$1; shift
  vm_bg btvirt -l"$_count" -L ${VM_BTVIRT_ARGS:-} >"$VM_STATE/btvirt.log" 2>&1
  _last=$((_count - 1))
  vm_wait_for "hci$_last" 10 test -e "/sys/class/bluetooth/hci$_last" || return 1
  mkdir -p /run/dbus
  dbus-daemon --system --fork --nopidfile || return 1
  # The battery and deviceinfo plugins claim 0x180F/0x180A and hide them
  # from the D-Bus GATT API, as on many desktops: turn them off, as Bleak's
  # documentation advises. -E: BlueZ 5.66 offers its advertisement monitor
  # (passive scanning, Bleak's or_patterns) only with experimental
  # interfaces, as Bleak's documentation says.
  VM_BLUETOOTHD_ARGS="$*" # for vm_revive_bluetoothd
  vm_bg bluetoothd -n -d -E -P battery,deviceinfo "$@" >"$VM_STATE/bluetoothd.log" 2>&1
  _i=0
  while [ "$_i" -lt "$_count" ]; do
    vm_wait_for "bluetoothd to own hci$_i" 15 _vm_dbus_adapter "$_i" || return 1
    btmgmt --index "$_i" power on >/dev/null 2>&1
    vm_wait_for "hci$_i powered" 10 _vm_powered "$_i" || return 1
    _i=$((_i + 1))
  done
}

# vm_revive_bluetoothd: bluetoothd 5.66 now and then segfaults (in dmesg;
# seen when a central's AcquireNotify socket closes as it disconnects,
# gatt-client.c sock_hup). Not our bug, and not what the job tests: said,
# bluetoothd started again with the first start's arguments, every
# controller powered, and the fixtures given time to register again (they
# do so by themselves when bluetoothd is back). Nothing when it runs.
_vm_fixtures_back() {
  for _f in "$VM_STATE"/fixture-hci*.log; do
    [ -e "$_f" ] || continue
    [ "$(grep -c 'registered again' "$_f")" -gt "${1:-0}" ] || return 1
  done
}
vm_revive_bluetoothd() {
  pidof bluetoothd >/dev/null && return 0
  vm_log "bluetoothd is gone ($(dmesg | grep -c 'bluetoothd.*segfault') segfaults in dmesg): starting it again"
  _before=0
  for _f in "$VM_STATE"/fixture-hci*.log; do
    [ -e "$_f" ] && _before=$(grep -c 'registered again' "$_f")
  done
  vm_bg bluetoothd -n -d -E -P battery,deviceinfo $VM_BLUETOOTHD_ARGS \
    >>"$VM_STATE/bluetoothd-revived.log" 2>&1
  _i=0
  while [ "$_i" -lt "$_count" ]; do
    vm_wait_for "bluetoothd to own hci$_i" 15 _vm_dbus_adapter "$_i" || return 1
    btmgmt --index "$_i" power on >/dev/null 2>&1
    _i=$((_i + 1))
  done
  vm_wait_for "the fixtures registered again" 20 _vm_fixtures_back "$_before"
}

# vm_wait_no_links IDX [SECONDS]: wait until controller hciIDX holds no
# connection. Connecting again while the kernel still tears the previous
# link down can hit a list corruption in Debian 6.1's hci_chan_del that
# kills bluetoothd (see README): jobs that connect one program after
# another wait for this between them. Not a failure when it times out.
_vm_no_links() { ! btmgmt --index "$1" con 2>/dev/null | grep -qE '([0-9A-F]{2}:){5}[0-9A-F]{2}'; }
vm_wait_no_links() { vm_wait_for "hci$1 without links" "${2:-10}" _vm_no_links "$1" || true; }

# vm_wait_no_adv IDX [SECONDS]: wait until bluetoothd holds no
# advertisement on hciIDX (a fixture killed, its advertisement not yet
# removed: registering the next one then fails with "Failed to complete
# registration"). Not a failure when it times out.
_vm_no_adv() {
  dbus-send --system --print-reply --dest=org.bluez "/org/bluez/hci$1" \
    org.freedesktop.DBus.Properties.Get string:org.bluez.LEAdvertisingManager1 \
    string:ActiveInstances 2>/dev/null | grep -q 'byte 0$'
}
vm_wait_no_adv() { vm_wait_for "hci$1 without advertisements" "${2:-10}" _vm_no_adv "$1" || true; }

vm_start_fixture() {
  _hci=$1; shift
  _ready="$VM_STATE/fixture-$_hci.json"
  rm -f "$_ready"
  vm_bg /usr/bin/python3 "$VM_LIB_DIR/fixture/peripheral.py" --adapter "$_hci" --ready "$_ready" "$@" \
    >"$VM_STATE/fixture-$_hci.log" 2>&1
  _fixture_pid=$!
  # Serving, or gone (then at once, not after the whole wait).
  vm_wait_for "the fixture on $_hci" 30 sh -c "test -s '$_ready' || ! kill -0 $_fixture_pid"
  if ! test -s "$_ready"; then
    cat "$VM_STATE/fixture-$_hci.log"
    return 1
  fi
  FIXTURE_ADDR=$(sed -n 's/.*"address": "\([^"]*\)".*/\1/p' "$_ready")
  FIXTURE_NAME=$(sed -n 's/.*"name": "\([^"]*\)".*/\1/p' "$_ready")
  export FIXTURE_ADDR FIXTURE_NAME
  vm_log "fixture on $_hci at $FIXTURE_ADDR ($FIXTURE_NAME)"
}

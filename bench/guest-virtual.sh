#!/bin/sh
# Guest job of make bench (bench/run.sh): the same workloads against the
# virtual peripheral (bench/virtual-peripheral.json, bleak-vctl), where the
# peripheral costs nothing and the client is what is measured. For each
# link model (unlimited: memory speed; 2m: a modeled 2M PHY link):
# python3-bleak and bleak-c (backend bluez) through the kernel and
# bluetoothd, the controller registered by bleak-vctl --vhci; then bleak-c
# with backend hci over bleak-vctl's H4 socket. bluetoothd's CPU time
# around each bluez run is kept beside its result (the work Bleak leaves
# to it). Results: /run/job/results/virtual-LINK-CLIENT.json.
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
. "$BLEAK_PROJECT/bench/guest-run-lib.sh"
res=/run/job/results
mkdir -p "$res"
vctl=$BLEAK_PROJECT/build/tools/bleak-vctl
bin=$BLEAK_PROJECT/build/bench/bench_client
py=$BLEAK_PROJECT/bench/bleak_bench.py
db=$BLEAK_PROJECT/bench/virtual-peripheral.json
addr=C0:DE:00:00:00:B1
args=${BENCH_ARGS:-"--cycles 4 --reads 200 --writes 200 --long 20 --wwr 1000 --notify 1000"}
links=${BENCH_LINKS:-"unlimited 2m"}
tck=$(getconf CLK_TCK)

modprobe hci_vhci 2>/dev/null
vm_wait_for /dev/vhci 5 test -e /dev/vhci || { vm_not_ok "/dev/vhci"; vm_summary; exit 1; }
mkdir -p /run/dbus
dbus-daemon --system --fork --nopidfile || { vm_not_ok "system dbus"; vm_summary; exit 1; }
conf=/run/job/virtual.conf
# The connection interval range the kernel asks for: BlueZ's default is
# 30-50 ms, the hci backend's 7.5-30 ms; bleak-vctl's 2m model takes the
# host's value nearest its 7.5 ms, so both paths get the same range and
# the limit printed for 7.5 ms holds for every client.
printf '[GATT]\nCache = always\n[LE]\nMinConnectionInterval = 6\nMaxConnectionInterval = 24\n' > "$conf"
vm_bg bluetoothd -n -d -E -P battery,deviceinfo -f "$conf" >"$VM_STATE/bluetoothd.log" 2>&1

# CPU ticks bluetoothd has used (utime + stime), 0 when it is gone.
bt_ticks() {
  _p=$(pidof bluetoothd) || { echo 0; return; }
  awk '{print $14 + $15}' "/proc/$_p/stat" 2>/dev/null || echo 0
}

# run NAME CMD...: one client's run; for a bluez client (VIA set), the
# central forgets the peer first and finds it again by a scan (cold, as in
# guest-bench.sh).
run() {
  _name=$1; shift
  if [ -n "${VIA:-}" ]; then
    vm_wait_no_links "$idx"
    busctl call org.bluez "/org/bluez/$VIA" org.bluez.Adapter1 RemoveDevice o \
      "/org/bluez/$VIA/dev_$(echo "$addr" | tr : _)" >/dev/null 2>&1
    timeout 15 bluetoothctl --timeout 4 scan on >/dev/null 2>&1
  fi
  # The clients read bluetoothd's CPU around each phase (bench_client.c's
  # daemon_ms): what a phase costs the daemon, for the report's bounds.
  if [ -n "${VIA:-}" ]; then
    BENCH_DAEMON_PID=$(pidof bluetoothd); export BENCH_DAEMON_PID
  else
    unset BENCH_DAEMON_PID
  fi
  _b0=$(bt_ticks)
  _t0=$(date +%s)
  timeout 600 "$@" >"$res/$_name.json" 2>"$res/$_name.err"
  _rc=$?
  [ -z "${VIA:-}" ] ||
    echo "{\"bluetoothd_cpu_ms\": $(( ($(bt_ticks) - _b0) * 1000 / tck ))}" >"$res/$_name.daemon.json"
  bench_result "$_name" "$_rc" "$_t0"
}

for link in $links; do
  # The limit is computed for the MTU every client gets here.
  spec=$link
  [ "$link" = unlimited ] || spec="$link,mtu=517"
  # Through the kernel: the controller as hciN, bluetoothd on it.
  out=/run/job/vhci-$link.out
  "$vctl" --vhci --link "$spec" "$db" >"$out" 2>"$VM_STATE/vctl-vhci-$link.log" &
  vpid=$!
  if vm_wait_for "bleak-vctl --vhci" 10 grep -q '^hci[0-9]*$' "$out"; then
    hci=$(head -1 "$out"); idx=${hci#hci}
    vm_wait_for "bluetoothd to own $hci" 15 _vm_dbus_adapter "$idx" >/dev/null
    btmgmt --index "$idx" power on >/dev/null 2>&1
    vm_wait_for "$hci powered" 15 _vm_powered "$idx"
    vm_log "link $link: $hci; $(grep 'limit' "$VM_STATE/vctl-vhci-$link.log" || echo 'no modeled limit')"
    # bleak_bench.py and bench_client use the first adapter: hci0 here,
    # the only one (no btvirt in this job).
    VIA=$hci
    # shellcheck disable=SC2086
    run_twice "virtual-$link-bleak" /usr/bin/python3 "$py" "$addr" $args
    # shellcheck disable=SC2086
    run_twice "virtual-$link-bluez" env BLEAK_BACKEND=bluez "$bin" "$addr" $args
    VIA=
  else
    vm_not_ok "bleak-vctl --vhci ($link)" "$(tail -3 "$VM_STATE/vctl-vhci-$link.log" | tr '\n' '|')"
  fi
  kill "$vpid" 2>/dev/null; wait "$vpid" 2>/dev/null
  vm_wait_for "hci gone" 10 sh -c "! test -e /sys/class/bluetooth/${hci:-none}"

  # The hci backend over the H4 socket.
  sock=/tmp/vctl-$link.h4 # not /run/job: a 9p mount has no unix sockets
  "$vctl" --link "$spec" --socket "$sock" "$db" 2>"$VM_STATE/vctl-socket-$link.log" &
  spid=$!
  vm_wait_for "bleak-vctl --socket" 10 test -S "$sock"
  grep limit "$VM_STATE/vctl-socket-$link.log" | sed 's/^bleak-vctl: //' >"$res/virtual-$link-limit.txt"
  # shellcheck disable=SC2086
  run_twice "virtual-$link-hci" env BLEAK_BACKEND=hci BLEAK_HCI="unix:$sock" "$bin" "$addr" $args
  kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
done
vm_summary

#!/bin/sh
# The bluez backend on the host, in seconds: a private D-Bus daemon, the fake
# bluetoothd of tests/support/fake_bluez.py, and test_bluez_host against it.
#   bluez_host.sh TEST_BINARY
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'kill $fake $daemon 2>/dev/null; rm -rf "$dir"' EXIT
for need in dbus-daemon /usr/bin/python3; do
  command -v $need >/dev/null || { echo "bluez_host: $need missing (scripts/install-deps.sh)"; exit 1; }
done
dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$dir/addr" 2>/dev/null &
daemon=$!
for i in $(seq 50); do [ -s "$dir/addr" ] && break; sleep 0.1; done
DBUS_SESSION_BUS_ADDRESS=$(head -1 "$dir/addr")
export DBUS_SESSION_BUS_ADDRESS
/usr/bin/python3 "$here/support/fake_bluez.py" "$dir/ready" &
fake=$!
for i in $(seq 100); do [ -s "$dir/ready" ] && break; sleep 0.1; done
[ -s "$dir/ready" ] || { echo "bluez_host: the fake bluetoothd did not start"; exit 1; }
BLEAK_DBUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS "$@"

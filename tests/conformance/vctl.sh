#!/bin/sh
# SPDX-License-Identifier: MIT
# The conformance suite on the host, without the guest: backend hci over H4
# on a unix socket served by bleak-vctl, with the guest fixture's database
# (tests/vm/fixture/database.json) as the virtual peripheral. What the
# virtual controller cannot do (SMP, encryption) the suite skips with
# CONFORMANCE_VCTL=1; everything else must pass. CTest: conformance_vctl.
# usage: vctl.sh BLEAK_VCTL CONFORMANCE DATABASE.json [LINK]
#   LINK: bleak-vctl's --link (default unlimited; 2m: the modeled air)
set -u
vctl=$1 conformance=$2 db=$3 link=${4:-unlimited}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bleak-vctl.XXXXXX") || exit 1
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$vctl" --verbose --link "$link" --socket "$dir/h4" "$db" 2>"$dir/vctl.log" &
pid=$!
# bleak-vctl renames its socket into place once it listens: its existence
# means it accepts. Polled, for at most 10 s.
n=0
while [ ! -S "$dir/h4" ]; do
  if ! kill -0 "$pid" 2>/dev/null || [ "$n" -ge 200 ]; then
    echo "not ok - bleak-vctl did not listen on $dir/h4"
    cat "$dir/vctl.log"
    exit 1
  fi
  n=$((n + 1))
  sleep 0.05
done

mkdir "$dir/bonds"
BLEAK_BACKEND=hci BLEAK_BOND_DIR="$dir/bonds" CONFORMANCE_VCTL=1 \
  "$conformance" C0:DE:00:00:00:01 --hci "unix:$dir/h4" >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
# A clean exit on SIGTERM is part of the test.
kill -TERM "$pid"
wait "$pid"
vrc=$?
pid=
if [ "$vrc" != 0 ]; then
  echo "not ok - bleak-vctl exited with $vrc on SIGTERM"
  rc=1
fi
if grep -q '^not ok' "$dir/out" || ! grep -q '^[0-9]* passed, 0 failed$' "$dir/out"; then
  rc=1
fi
[ "$rc" = 0 ] || { echo "# bleak-vctl's log:"; cat "$dir/vctl.log"; }
exit "$rc"

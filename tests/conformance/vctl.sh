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
. "$(dirname "$0")/../support/vctl-serve.sh"
vctl_start "$vctl" "$link" "$db" || exit 1
dir=$vctl_dir

mkdir "$dir/bonds"
BLEAK_BACKEND=hci BLEAK_BOND_DIR="$dir/bonds" CONFORMANCE_VCTL=1 \
  "$conformance" C0:DE:00:00:00:01 --hci "unix:$dir/h4" >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
vctl_stop || rc=1
if grep -q '^not ok' "$dir/out" || ! grep -q '^[0-9]* passed, 0 failed$' "$dir/out"; then
  rc=1
fi
[ "$rc" = 0 ] || { echo "# bleak-vctl's log:"; cat "$dir/vctl.log"; }
exit "$rc"

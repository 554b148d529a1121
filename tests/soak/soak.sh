#!/bin/sh
# SPDX-License-Identifier: MIT
# The soak test (tests/soak/soak.c) on the host: backend hci over H4 on a
# unix socket served by bleak-vctl, the guest fixture's database as the
# virtual peripheral. CTest: soak_vctl, valgrind_soak_vctl.
# usage: soak.sh BLEAK_VCTL DATABASE.json "SOAK OPTIONS" COMMAND...
#   COMMAND: the soak program, maybe behind valgrind and its options; it
#   gets the peripheral's address, --hci and the SOAK OPTIONS (split on
#   spaces).
set -u
vctl=$1 db=$2 opts=$3
shift 3
. "$(dirname "$0")/../support/vctl-serve.sh"
vctl_start "$vctl" unlimited "$db" || exit 1
dir=$vctl_dir

mkdir "$dir/bonds"
# shellcheck disable=SC2086 # the options are words
BLEAK_BOND_DIR="$dir/bonds" "$@" C0:DE:00:00:00:01 --hci "unix:$dir/h4" $opts \
  >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
vctl_stop || rc=1
if grep -q '^not ok' "$dir/out" || ! grep -q '^soak: [0-9]* cycles, [0-9]* passed, 0 failed$' "$dir/out"; then
  rc=1
fi
[ "$rc" = 0 ] || { echo "# bleak-vctl's log (the end):"; tail -n 50 "$dir/vctl.log"; }
exit "$rc"

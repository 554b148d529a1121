#!/bin/sh
# Guest job: the conformance suite (build/tests/conformance/conformance)
# against the fixture on hci1 from hci0, with backend $BLEAK_BACKEND
# (default bluez). CONFORMANCE_TWO=1 adds a second fixture on hci2 and the
# two-client checks, which fail in this guest for now (see README, quirks).
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
bin=${BLEAK_CONFORMANCE:-$BLEAK_PROJECT/build/tests/conformance/conformance}
if [ "${CONFORMANCE_TWO:-0}" = 1 ]; then
  vm_start_bluez 3 || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }
  vm_start_fixture hci2 || { vm_not_ok "second fixture up"; vm_summary; exit 1; }
  set -- --second "$FIXTURE_ADDR"
else
  vm_start_bluez 2 || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }
fi
vm_start_fixture hci1 || { vm_not_ok "fixture up"; vm_summary; exit 1; }
"$bin" "$FIXTURE_ADDR" --adapter hci0 "$@"

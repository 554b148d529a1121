#!/bin/sh
# Guest job: the conformance suite (build/tests/conformance/conformance)
# against the fixture on hci1 from hci0, with backend $BLEAK_BACKEND
# (default bluez). A second fixture on hci2, reached from hci3, serves the
# two-clients checks: in this guest an emulated controller holds one LE link
# as central (a second one from hci0 times out; see README, quirks).
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
bin=${BLEAK_CONFORMANCE:-$BLEAK_PROJECT/build/tests/conformance/conformance}
vm_start_bluez 4 || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }
vm_start_fixture hci2 || { vm_not_ok "second fixture up"; vm_summary; exit 1; }
second=$FIXTURE_ADDR
vm_start_fixture hci1 || { vm_not_ok "fixture up"; vm_summary; exit 1; }
"$bin" "$FIXTURE_ADDR" --adapter hci0 --second "$second" --second-adapter hci3

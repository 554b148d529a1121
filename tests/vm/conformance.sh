#!/bin/sh
# Guest job: the conformance suite (build/tests/conformance/conformance)
# against the fixture, with backend $BLEAK_BACKEND (default bluez).
. "$BLEAK_PROJECT/tests/vm/guest-lib.sh"
bin=${BLEAK_CONFORMANCE:-$BLEAK_PROJECT/build/tests/conformance/conformance}
vm_start_bluez 2 || { vm_not_ok "bluez stack up"; vm_summary; exit 1; }
vm_start_fixture hci1 || { vm_not_ok "fixture up"; vm_summary; exit 1; }
"$bin" "$FIXTURE_ADDR" --adapter hci0

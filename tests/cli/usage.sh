#!/bin/sh
# The bleak tool's command-line handling, without Bluetooth: help texts and
# usage errors exit before anything connects (exit 0 and 2). The guest
# suite (tests/vm/cli.sh) runs every command for real.
bleak=${1:?usage: usage.sh path/to/bleak}
fail=0
check() { # check WANT_RC DESC ARGS...
  want=$1 desc=$2; shift 2
  "$bleak" "$@" >/tmp/bleak-usage.$$ 2>&1 </dev/null
  rc=$?
  if [ "$rc" = "$want" ]; then echo "ok - $desc"
  else echo "not ok - $desc: exit $rc, expected $want"; sed 's/^/#   /' /tmp/bleak-usage.$$; fail=1; fi
}
check 0 "--help" --help
check 0 "--version" --version
for cmd in scan services read write notify desc-read desc-write pair unpair bonds adapters devices; do
  check 0 "$cmd --help" "$cmd" --help
  check 0 "help $cmd" help "$cmd"
done
check 2 "no command" 
check 2 "unknown command" frobnicate
check 2 "unknown global option" --frob scan
check 2 "global option without its value" --timeout
check 2 "bad --timeout" --timeout soon scan
check 2 "bad --backend" --backend winrt scan
check 2 "bad --log-level" --log-level loud scan
check 2 "read without CHAR" read 00:11:22:33:44:55
check 0 "read --cached --help" read --cached --help
grep -q -- "--cached" /tmp/bleak-usage.$$ || { echo "not ok - read --help names --cached"; fail=1; }
grep -q "default 30" /tmp/bleak-usage.$$ || { echo "not ok - the connect timeout's default is 30 s"; fail=1; }
grep -q -- "--wait-disconnect" /tmp/bleak-usage.$$ || { echo "not ok - --help names --wait-disconnect"; fail=1; }
check 2 "read --cached without CHAR" read 00:11:22:33:44:55 --cached
check 0 "desc-read --cached --help" desc-read 00:11:22:33:44:55 0x0004 --cached --help
check 2 "write takes no --cached" write 00:11:22:33:44:55 2a19 01 --cached
check 2 "adapters takes no operands" adapters hci0
check 2 "devices: unknown option" devices --frob
check 2 "devices --bond-dir without its value" devices --bond-dir
check 0 "--wait-disconnect is a global option" --wait-disconnect read --help
check 2 "--wait-disconnect takes no value" --wait-disconnect=yes read --help
check 2 "read with an extra operand" read 00:11:22:33:44:55 2a19 extra
check 2 "write: odd hex digits" write 00:11:22:33:44:55 2a19 abc
check 2 "write: not hex" write 00:11:22:33:44:55 2a19 0xzz
check 2 "write: 513 bytes" write 00:11:22:33:44:55 2a19 "$(printf '%01026d' 0)"
check 2 "write: unknown option" write 00:11:22:33:44:55 2a19 00 --fast
check 2 "read: --no-response is for writes" read 00:11:22:33:44:55 2a19 --no-response
check 2 "notify: --count 0" notify 00:11:22:33:44:55 2a37 --count 0
check 2 "notify: --duration x" notify 00:11:22:33:44:55 2a37 --duration x
check 2 "scan: bad --service" scan --service not-a-uuid
check 2 "scan: operand" scan extra
check 2 "services without ADDR" services
check 2 "a malformed address" read nonsense 2a19
# bonds: the hci backend's bond directory, no radio needed
bonds=$(mktemp -d /tmp/bleak-usage-bonds.XXXXXX)
check 0 "bonds: none yet" bonds --bond-dir "$bonds"
grep -q "No bonds" /tmp/bleak-usage.$$ || { echo "not ok - bonds: says there are none"; fail=1; }
cat > "$bonds/C0FFEE000001-public_112233445566-public.bond" <<EOB
version = 1
local = C0:FF:EE:00:00:01
local_type = public
peer = 11:22:33:44:55:66
peer_type = public
created = 1733140800
ltk = 00112233445566778899aabbccddeeff
key_size = 16
authenticated = true
secure_connections = true
ediv = 0000
rand = 0000000000000000
[end]
EOB
check 0 "bonds: lists one" bonds --bond-dir "$bonds"
grep -q "^11:22:33:44:55:66 .*Secure Connections, authenticated" /tmp/bleak-usage.$$ &&
  ! grep -q 00112233445566778899aabbccddeeff /tmp/bleak-usage.$$ ||
  { echo "not ok - bonds: the peer and what its key is worth, never the key"; fail=1; }
check 2 "bonds remove: a malformed address" bonds remove nonsense --bond-dir "$bonds"
check 0 "bonds remove" bonds remove 11:22:33:44:55:66 --bond-dir "$bonds"
check 3 "bonds remove: none left" bonds remove 11:22:33:44:55:66 --bond-dir "$bonds"
rm -rf "$bonds"
check 0 "global option first, command option after the operands" --timeout 3 notify 00:11:22:33:44:55 2a37 --help
rm -f /tmp/bleak-usage.$$
exit $fail

#!/bin/sh
# SPDX-License-Identifier: MIT
# bleak-vctl's command-line handling: help, usage errors (exit 2) and files
# that do not load (exit 1) end before it listens.
vctl=${1:?usage: vctl-usage.sh path/to/bleak-vctl DATABASE.json}
db=${2:?usage: vctl-usage.sh path/to/bleak-vctl DATABASE.json}
fail=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
check() { # check WANT_RC DESC ARGS...
  want=$1 desc=$2; shift 2
  "$vctl" "$@" >"$out" 2>&1 </dev/null
  rc=$?
  if [ "$rc" = "$want" ]; then echo "ok - $desc"
  else echo "not ok - $desc: exit $rc, expected $want"; sed 's/^/#   /' "$out"; fail=1; fi
}
check 0 "--help" --help
grep -q -- "--socket PATH" "$out" || { echo "not ok - --help names --socket"; fail=1; }
check 2 "no arguments"
check 2 "no socket" "$db"
check 2 "no file" --socket /nonexistent/s
check 2 "both --socket and --tcp" --socket /nonexistent/s --tcp 1 "$db"
check 2 "unknown option" --frob --socket /nonexistent/s "$db"
check 2 "bad --link" --link 3m --socket /nonexistent/s "$db"
check 1 "a file that does not exist" --socket /nonexistent/s /nonexistent.json
check 1 "a socket it cannot listen on" --socket /nonexistent/dir/s "$db"
check 1 "a bad --tcp port" --tcp 0 "$db"
exit $fail

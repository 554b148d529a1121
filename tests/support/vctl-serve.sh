# SPDX-License-Identifier: MIT
# Sourced by the host tests that run a client against bleak-vctl
# (tests/conformance/vctl.sh, tests/soak/soak.sh): start it on a unix
# socket in a fresh directory, and stop it, its clean exit on SIGTERM
# checked. Sets vctl_dir (the directory: the socket is $vctl_dir/h4, the
# log $vctl_dir/vctl.log) and vctl_pid; removes the directory on exit.
vctl_dir= vctl_pid=
vctl_cleanup() {
  [ -n "$vctl_pid" ] && kill "$vctl_pid" 2>/dev/null
  [ -n "$vctl_dir" ] && rm -rf "$vctl_dir"
}
trap vctl_cleanup EXIT
trap 'exit 1' INT TERM

# vctl_start BLEAK_VCTL LINK DATABASE.json...: 0 once it listens.
vctl_start() {
  _vctl=$1 _link=$2
  shift 2
  vctl_dir=$(mktemp -d "${TMPDIR:-/tmp}/bleak-vctl.XXXXXX") || return 1
  "$_vctl" --verbose --link "$_link" --socket "$vctl_dir/h4" "$@" 2>"$vctl_dir/vctl.log" &
  vctl_pid=$!
  # bleak-vctl renames its socket into place once it listens: its
  # existence means it accepts. Polled, for at most 10 s.
  _n=0
  while [ ! -S "$vctl_dir/h4" ]; do
    if ! kill -0 "$vctl_pid" 2>/dev/null || [ "$_n" -ge 200 ]; then
      echo "not ok - bleak-vctl did not listen on $vctl_dir/h4"
      cat "$vctl_dir/vctl.log"
      return 1
    fi
    _n=$((_n + 1))
    sleep 0.05
  done
}

# vctl_stop: SIGTERM; 0 when bleak-vctl exited with 0 (a clean exit on
# SIGTERM is part of every test that starts it).
vctl_stop() {
  kill -TERM "$vctl_pid"
  wait "$vctl_pid"
  _vrc=$?
  vctl_pid=
  if [ "$_vrc" != 0 ]; then
    echo "not ok - bleak-vctl exited with $_vrc on SIGTERM"
    return 1
  fi
}

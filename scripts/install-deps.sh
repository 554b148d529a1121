#!/usr/bin/env bash
# Install the Debian packages bleak-c needs, only those that are missing.
#   scripts/install-deps.sh build   compilers, CMake, libraries, test tools
#   scripts/install-deps.sh all     the above and the QEMU test guest's needs
# Quick when everything is present: one dpkg-query, no apt-get.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
what=${1:-build}

build_pkgs=(gcc make cmake pkg-config libc6-dev libcmocka-dev valgrind
            libsystemd-dev libssl-dev clang libjansson-dev
            dbus-daemon python3-dbus python3-gi  # these three: unit_bluez_host
            groff-base)  # the install test checks the man pages

missing=()
for p in "${build_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$what" = all ]; then
  "$here/../tests/vm/install-deps.sh"
fi

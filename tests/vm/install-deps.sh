#!/usr/bin/env bash
# Install what the QEMU test guest needs, only when something is missing.
# Fast (one dpkg-query) when everything is there.
set -euo pipefail
pkgs=(qemu-system-x86 busybox-static cpio kmod bluez bluez-test-tools dbus
      python3-dbus python3-gi python3-bleak)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tests/vm/install-deps.sh: missing ${missing[*]} (run as root)" >&2
  exit 1
fi
echo "tests/vm: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Stage an install (DESTDIR), then build tests/install/hello.c with nothing
# but `pkg-config --cflags --libs bleak` against the staged tree, and run it;
# once against the shared library and once statically.
set -euo pipefail
build=$(realpath "${1:?usage: check-install.sh BUILD_DIR}")
src=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
pcdir=$(dirname "$(find "$stage" -name bleak.pc | head -1)")
libdir=$(dirname "$(find "$stage" -name 'libbleak.so' | head -1)")
# The staged bleak.pc first; the system's for what bleak requires (libsystemd).
export PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$pcdir"
test -f "$stage$prefix/include/bleak/bleak.h"
test -f "$stage$prefix/include/bleak/version.h"
# The soname carries the major version.
objdump -p "$libdir/libbleak.so" | grep -q 'SONAME *libbleak.so.0'
# Only the public API is exported.
if nm -D --defined-only "$libdir/libbleak.so" | awk '{print $3}' | grep -v '^bleak_' | grep -q .; then
  echo "check-install: non-bleak_ symbols exported:"; nm -D --defined-only "$libdir/libbleak.so" | grep -v ' bleak_'; exit 1
fi
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$stage/hello" "$src/hello.c" $(pkg-config --cflags --libs bleak)
out=$(LD_LIBRARY_PATH="$libdir" "$stage/hello")
echo "$out"
case "$out" in *"00002a37-0000-1000-8000-00805f9b34fb is Heart Rate Measurement"*) ;; *) echo "unexpected output"; exit 1;; esac
# shellcheck disable=SC2046
cc -std=c11 -o "$stage/hello-static" "$src/hello.c" $(pkg-config --cflags --static bleak) "$libdir/libbleak.a" $(pkg-config --libs --static bleak | sed 's/-lbleak//')
"$stage/hello-static" >/dev/null
echo "check-install: ok"

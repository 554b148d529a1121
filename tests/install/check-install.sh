#!/usr/bin/env bash
# Stage an install (DESTDIR), then build tests/install/hello.c with nothing
# but `pkg-config --cflags --libs bleak` against the staged tree, and run it;
# once against the shared library and once statically. Then the same through
# the CMake package (tests/install/consumer: find_package(bleak)), and the
# installed programs and man pages.
set -euo pipefail
build=$(realpath "${1:?usage: check-install.sh BUILD_DIR}")
src=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d)
trap '[ -n "${KEEP_STAGE:-}" ] || rm -rf "$stage"' EXIT
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

# The CMake package, from the staged prefix (its files locate the prefix
# from where they are, so a DESTDIR tree works as an installed one). The
# system's pkg-config, not the staged one, finds libcrypto and libsystemd.
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
cmake -S "$src/consumer" -B "$stage/consumer" -DCMAKE_PREFIX_PATH="$stage$prefix" >"$stage/consumer.log" 2>&1 ||
  { cat "$stage/consumer.log"; echo "check-install: find_package(bleak) failed"; exit 1; }
cmake --build "$stage/consumer" >>"$stage/consumer.log" 2>&1 ||
  { cat "$stage/consumer.log"; echo "check-install: the CMake consumer did not build"; exit 1; }
out=$(LD_LIBRARY_PATH="$libdir" "$stage/consumer/hello")
case "$out" in *"is Heart Rate Measurement"*) ;; *) echo "unexpected output from the CMake consumer"; exit 1;; esac
# The shared one really is the shared library; the static one has none.
readelf -d "$stage/consumer/hello" | grep -q 'NEEDED.*libbleak.so.0'
! readelf -d "$stage/consumer/hello_static" | grep -q 'libbleak'
"$stage/consumer/hello_static" >/dev/null
# A version the package does not satisfy is refused (0.x: same minor only).
if cmake -S "$src/consumer" -B "$stage/consumer-v" -DCMAKE_PREFIX_PATH="$stage$prefix" \
     -DBLEAK_WANT=0.99 >"$stage/consumer-v.log" 2>&1; then
  echo "check-install: find_package(bleak 0.99) was satisfied by $(sed -n 's/^project(bleak VERSION \([^ ]*\).*/\1/p' "$src/../../CMakeLists.txt")"; exit 1
fi
echo "check-install: find_package(bleak) ok"

# The programs and their manual pages, when the tools are built.
if [ -f "$build/tools/bleak" ]; then
  for prog in bleak bleak-vctl; do
    test -x "$stage$prefix/bin/$prog"
    test -f "$stage$prefix/share/man/man1/$prog.1"
    LD_LIBRARY_PATH="$libdir" "$stage$prefix/bin/$prog" --help >/dev/null
    # groff's warnings (bad macros, unknown escapes) fail the test.
    warn=$(groff -man -Tutf8 -ww -z "$stage$prefix/share/man/man1/$prog.1" 2>&1)
    [ -z "$warn" ] || { echo "check-install: $prog.1: $warn"; exit 1; }
  done
fi
echo "check-install: ok"

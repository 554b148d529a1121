# bleak-c: a thin front to CMake. The README's commands:
#   make demo     the bleak tool against a virtual peripheral in the test guest
#   make check    every test: unit (plain, ASan+UBSan, valgrind), install, guest
# Also: make (build), make install [DESTDIR=...] [PREFIX=...], make clean.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all build asan deps deps-all check check-unit check-asan check-vm install demo fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh build

deps-all:
	@scripts/install-deps.sh all

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DBLEAK_SANITIZE=ON -DBLEAK_VM_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Unit tests under ASan+UBSan first (fast, loud), then the main build's
# whole suite: unit, valgrind, install, and the QEMU guest suite.
check: deps-all build asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -L unit
	ctest --test-dir $(BUILD) --output-on-failure

check-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

check-asan: asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -L unit

check-vm: deps-all build
	ctest --test-dir $(BUILD) --output-on-failure -L vm

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

demo: deps-all build
	tests/vm/demo.sh

# libFuzzer (clang) on every parser, FUZZ_SECONDS each; make check runs the
# same targets briefly on their seeds (fuzz_replay_* tests).
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DBLEAK_FUZZ=ON -DBLEAK_VM_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_ad fuzz_uuid fuzz_h4 fuzz_l2cap fuzz_l2cap_signal fuzz_smp fuzz_att fuzz_gatt fuzz_bond_file fuzz_att_server fuzz_vctl_controller
	tests/fuzz/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Benchmarks against Bleak in the test guest (see docs/benchmarks.md):
# prints the table, writes docs/benchmarks.md and docs/benchmarks.svg.
bench: deps-all build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

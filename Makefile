# hqio top-level entry points. CMake does the building; this file only
# names the jobs. See README.md.
BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test unit san fuzz bench install clean testbed

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@$(BUILD)/tools/hqio demo

# The whole test suite: unit tests, then the sanitizer build, then the fuzzers.
test: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/test.sh

# The QEMU test bed (docs/testbed.md); HQIO_SKIP_TESTBED=1 skips it, saying so.
testbed: deps
	@JOBS=$(JOBS) bash testbed/run.sh

bench: build
	@BUILD=$(BUILD) scripts/bench.sh
	@BUILD=$(BUILD) scripts/bench-dvh.sh
	@bash scripts/bench-monitor.sh   # the monitor vs QEMU in the test bed, 5 boots

install: build
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)

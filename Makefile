# Thin front end over CMake + CTest. `make demo` and `make check` are the README's commands.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build bootstrap demo check unit clean bench fuzz

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: bootstrap $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@scripts/demo

check: build
	@scripts/bootstrap --test-tools
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Permission-engine benchmark (not a test): prints load time, memory and query latency
# next to the targets of issue 5.
bench: bootstrap $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) --target perm_bench -j $(JOBS)
	$(BUILD_DIR)/perm_bench

# libFuzzer targets (fuzz/): clang build in $(FUZZ_BUILD_DIR), each target runs
# FUZZ_SECONDS (60) from its seed corpus. Needs clang + libclang-rt (bootstrap --fuzz-tools).
FUZZ_BUILD_DIR ?= build-fuzz
fuzz:
	@scripts/bootstrap --fuzz-tools
	cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_C_COMPILER=clang -DRG_FUZZ=ON \
	      -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD_DIR) --target fuzz_jose fuzz_discovery fuzz_callback -j $(JOBS)
	fuzz/run.sh $(FUZZ_BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)

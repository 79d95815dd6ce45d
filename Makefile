# Lantern: `make run` serves a small instruct model (Hub, else bundled); `make test` runs every test.
# Both install what is missing first (scripts/install-deps), then build.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
WERROR ?= ON
# Extra ctest arguments, e.g. CTEST_ARGS='-LE sanitizer' to leave out the sanitizer suites
# (they build the unit tests again in two more trees under $(BUILD_DIR)).
CTEST_ARGS ?=

.PHONY: all deps build run test test-sanitizers bench clean format

all: build

deps:
	@bash scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DLANTERN_WERROR=$(WERROR)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@bash scripts/run-default-model $(BUILD_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Only the sanitizer suites (part of `make test`).
test-sanitizers: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L sanitizer

bench: build
	@bash scripts/run-benchmarks $(BUILD_DIR)

format:
	find src tests bench examples -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)

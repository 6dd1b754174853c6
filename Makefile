# The commands of the README. Each target installs what is missing first.
BUILD ?= build
JOBS ?= 2
# ccache's settings for the precompiled header are in CMakeLists.txt.
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: deps build demo test test-slow bench bench-targets bench-threads clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/lumen

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# Slow and statistical checks (paper-size training, recovery thresholds, long texts).
test-slow: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L slow

bench: build
	$(BUILD)/lumen_bench --benchmark_counters_tabular=true

# Issue #15's speed targets: their benchmarks only, then the table (figure when filed, target,
# measured, ratios) from this one run.
bench-targets: build
	$(BUILD)/lumen_bench --targets --benchmark_counters_tabular=true

# lumen train / analyze at the default, --threads 1 and --threads <cores> (bench/threads.sh).
bench-threads: build
	bash bench/threads.sh $(BUILD)/lumen 3

clean:
	rm -rf $(BUILD)

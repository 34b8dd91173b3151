# onnxllm — convenience wrappers around scripts/setup-deps.sh, CMake and CTest.
#
#   make          set up dependencies and build (build/)
#   make run      set up, build, get a model (real Phi-4-mini if present, else a demo
#                 model with random weights) and start chatting
#   make test     build and run all tests, normally and under ASan + UBSan (build-asan/)
#   make bench    build and run the benchmarks (side by side with onnxruntime-genai)
#   make install PREFIX=DIR   bin/onnxllm, lib/libonnxllm.so, include/onnxllm.h,
#                 lib/pkgconfig/onnxllm.pc (default PREFIX /usr/local)
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
MODEL ?= models/phi-4-mini-cpu-int4
DEMO ?= models/demo
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

.PHONY: all deps build test test-release test-asan run bench install clean

all: build

deps:
	@bash scripts/setup-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: test-release test-asan

test-release: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DONNXLLM_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -LE no-asan

run: build
	@MODEL=$(MODEL) DEMO=$(DEMO) bash scripts/run.sh $(BUILD)/onnxllm

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@bash scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# onnxllm — convenience wrappers around scripts/setup-deps.sh, CMake and CTest.
#
#   make          set up every dependency and build everything (build/)
#   make run      set up and build only what running needs (quietly), get a model (real
#                 Phi-4-mini if present or downloadable, else a demo model with random
#                 weights) and start chatting. MODEL=DIR chats with that folder instead.
#   make test     build and run all tests, normally and under ASan + UBSan (build-asan/)
#   make bench    build and run the benchmarks (side by side with onnxruntime-genai)
#   make install PREFIX=DIR   bin/onnxllm, lib/libonnxllm.so, include/onnxllm.h,
#                 lib/pkgconfig/onnxllm.pc (default PREFIX /usr/local)
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
DEMO ?= models/demo
MAKEFLAGS += --no-print-directory
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

.PHONY: all deps deps-run build build-run test test-release test-asan run bench install clean

all: build

deps:
	@bash scripts/setup-deps.sh test

deps-run:
	@bash scripts/setup-deps.sh run

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The CLI and the library only, output in $(BUILD)/build-run.log unless it fails.
build-run: deps-run
	@mkdir -p $(BUILD)
	@echo "building onnxllm (log: $(BUILD)/build-run.log)" >&2
	@{ cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release && \
	   cmake --build $(BUILD) -j$(JOBS) --target onnxllm-cli onnxllm_shared onnxllm; } >$(BUILD)/build-run.log 2>&1 || \
	 { tail -30 $(BUILD)/build-run.log >&2; echo "build failed: see $(BUILD)/build-run.log" >&2; exit 1; }

test: test-release test-asan

test-release: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DONNXLLM_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -LE no-asan

# MODEL is passed only when given (run.sh tells a default path from a mistyped one).
run: build-run
	@$(if $(MODEL),MODEL=$(MODEL)) DEMO=$(DEMO) bash scripts/run.sh $(BUILD)/onnxllm

bench: build
	@bash scripts/bench.sh $(BUILD)

install: build-run
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

#!/usr/bin/env bash
# fuzz.sh TARGET [SECONDS] — a longer run of one fuzz target (default 600 s), the same
# binary, seeds and checks as its ctest fuzz_TARGET in `make test` (cmake/OlmFuzz.cmake):
# configures and builds the sanitizer tree (build-asan), then runs the test with
# ONNXLLM_FUZZ_SECONDS under `nice -n 10`. The log goes to build-asan/fuzz/TARGET/run.log;
# the last lines say how many inputs ran (stat::number_of_executed_units) and how many
# were new. Crashes land in build-asan/fuzz/TARGET/crash-* (exit status non-zero).
#   fuzz.sh --list   the targets
# ONNXLLM_FUZZ_NO_BUILD=1 runs what build-asan holds (sources may be edited meanwhile).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${ASAN_BUILD:-build-asan}
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Debug -DONNXLLM_SANITIZE=ON >/dev/null
if [ "${1:-}" = --list ] || [ $# -lt 1 ]; then
  (cd "$B" && ctest -N -L '^fuzz$' | sed -n 's/.*Test *#[0-9]*: fuzz_//p')
  [ $# -ge 1 ] && exit 0
  echo "usage: scripts/fuzz.sh TARGET [SECONDS]" >&2
  exit 2
fi
T=$1 SECS=${2:-600}
[ "${ONNXLLM_FUZZ_NO_BUILD:-}" = 1 ] || cmake --build "$B" -j"$(nproc)" >/dev/null
mkdir -p "$B/fuzz/$T"
LOG=$B/fuzz/$T/run.log
set +e
(cd "$B" && ONNXLLM_FUZZ_SECONDS=$SECS nice -n 10 ctest -R "^fuzz_$T\$" -V --timeout $((SECS + 600))) > "$LOG" 2>&1
rc=$?
set -e
grep -E "stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb|ERROR|SUMMARY|crash-|Test +#|tests passed|failed" "$LOG" | sed 's/^[0-9]*: //' | tail -12
echo "log: $LOG"
exit $rc

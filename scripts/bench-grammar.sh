#!/usr/bin/env bash
# bench-grammar.sh [BUILD_DIR] [DATA_DIR] — constrained decoding on MaskBench, one thread:
#  1. counts (tools/jsonschema/maskbench.mjs: compiled / compile errors / validation and
#     invalidation errors / passing, ajv cross-check) → bench/grammar/results/maskbench-latest.{json,md}
#  2. timings (bench/grammar/bench_grammar: vocabulary build, compile p50/p90/p99/max,
#     mask p50/p90/p99/max cold and with warm grammar caches) → bench/grammar/results/timings-latest.json
# Both under /work/team/bench.lock when it exists (timings only count on a quiet machine:
# the load average before and after is recorded with them). DATA_DIR defaults to the
# shared MaskBench development set (../shared/jsonschema/maskbench-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${2:-../shared/jsonschema/maskbench-dev}
[ -d "$DATA" ] || { echo "bench-grammar: $DATA missing (MaskBench data)"; exit 0; }
OUT=bench/grammar/results
mkdir -p "$OUT"
cmake --build "$BUILD" --target onnxllm-cli bench_grammar >/dev/null
TOK=$(bash scripts/make-phi4-tokenizer.sh "$BUILD/phi4-tokenizer")
LOCK=/work/team/bench.lock
run() { if [ -e "$LOCK" ]; then flock "$LOCK" "$@"; else "$@"; fi; }
load() { cut -d' ' -f1 /proc/loadavg; }
echo "== MaskBench counts ($DATA)"
before=$(load)
run node tools/jsonschema/maskbench.mjs --bin "$BUILD/onnxllm" --tokenizer "$TOK" --data "$DATA" --out "$OUT/maskbench-latest" | tail -15
echo "== timings (load before: $before)"
before=$(load)
t=$(run "$BUILD/bench/grammar/bench_grammar" "$TOK" "$DATA")
after=$(load)
node -e 'const t = JSON.parse(process.argv[1]); t.load_before = +process.argv[2]; t.load_after = +process.argv[3];
t.date = new Date().toISOString(); console.log(JSON.stringify(t, null, 1));' "$t" "$before" "$after" | tee "$OUT/timings-latest.json"

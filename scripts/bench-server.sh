#!/usr/bin/env bash
# bench-server.sh [BUILD [bench_server.mjs options]] — bench/server/bench_server.mjs on the full-size random-weight
# Phi-4-mini-shaped model (2 threads), under the team's bench lock (one full-size model
# on the machine at a time). Prints the numbers BENCHMARKS.md keeps.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
MODEL=${MODEL:-/work/models/phi-4-mini-int4}
LOCK=${BENCH_LOCK:-/work/team/bench.lock}
run() {
  test -d "$MODEL" || "$BUILD/onnxllm" build-model --preset phi-4-mini --seed 1 -o "$MODEL" -q
  # the shared full-size model has no tokenizer: a folder of hard links to it plus Phi-4-mini's
  # tokenizer and chat template (no copy of the 4.9 GB)
  TOK="$BUILD/phi4-tokenizer"
  [ -f "$TOK/tokenizer.json" ] || bash scripts/make-phi4-tokenizer.sh "$TOK" >/dev/null
  DIR="$BUILD/bench-server-model"
  mkdir -p "$DIR"
  # hard links: ONNX Runtime refuses external data that resolves outside the model folder
  for f in genai_config.json model.onnx model.onnx.data; do ln -f "$(realpath "$MODEL/$f")" "$DIR/$f"; done
  for f in "$TOK"/*; do ln -sfn "$(realpath "$f")" "$DIR/$(basename "$f")"; done
  MODEL=$DIR
  echo "uptime: $(uptime)"
  node bench/server/bench_server.mjs "$BUILD/onnxllm" "$MODEL" --threads 2 --ctx 4096 --max-tokens 64 --repeat 3 "$@"
  echo "uptime: $(uptime)"
}
if [ -e "$LOCK" ] || [ -d "$(dirname "$LOCK")" ]; then
  exec 9>"$LOCK"
  flock 9
fi
run "$@"

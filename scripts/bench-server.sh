#!/usr/bin/env bash
# bench-server.sh [BUILD] — bench/server/bench_server.mjs on the full-size random-weight
# Phi-4-mini-shaped model (2 threads), under the team's bench lock (one full-size model
# on the machine at a time). Prints the numbers BENCHMARKS.md keeps.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MODEL=${MODEL:-/work/models/phi-4-mini-int4}
LOCK=${BENCH_LOCK:-/work/team/bench.lock}
run() {
  test -d "$MODEL" || "$BUILD/onnxllm" build-model --preset phi-4-mini --seed 1 -o "$MODEL" -q
  echo "uptime: $(uptime)"
  node bench/server/bench_server.mjs "$BUILD/onnxllm" "$MODEL" --threads 2 --ctx 4096 --max-tokens 64 --repeat 3 "$@"
  echo "uptime: $(uptime)"
}
if [ -e "$LOCK" ] || [ -d "$(dirname "$LOCK")" ]; then
  exec 9>"$LOCK"
  flock 9
fi
run "$@"

#!/usr/bin/env bash
# bench-scheduler.sh [BUILD] — bench/scheduler/bench_scheduler on the full-size random-weight
# Phi-4-mini-shaped model (2 threads), every scenario in its own process, under the team's
# bench lock (one full-size model on the machine at a time). JSON lines go to stdout and to
# bench/scheduler/results/latest.jsonl; BENCHMARKS.md keeps the numbers.
#   MODEL (default /work/models/phi-4-mini-int4; built with build-model if absent)
#   PREFIX (agent scenario, default 2000), LONG (interfere, default 2000), TOKENS (rss, default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MODEL=${MODEL:-/work/models/phi-4-mini-int4}
LOCK=${BENCH_LOCK:-/work/team/bench.lock}
B="$BUILD/bench/scheduler/bench_scheduler"
cmake --build "$BUILD" --target bench_scheduler onnxllm-cli >/dev/null
OUT=bench/scheduler/results
mkdir -p "$OUT"
run() {
  test -f "$MODEL/genai_config.json" || "$BUILD/onnxllm" build-model --preset phi-4-mini --seed 1 -o "$MODEL" -q
  CACHE=$(mktemp -d)
  trap 'rm -rf "$CACHE"' EXIT
  echo "{\"uptime_before\": \"$(uptime)\"}"
  "$B" -m "$MODEL" streams --streams 1,2,4,8 --decode 32 --prompt 16
  "$B" -m "$MODEL" agent --prefix "${PREFIX:-2000}" --turn 100 --answer 16 --cache-dir "$CACHE"
  "$B" -m "$MODEL" interfere --streams 3 --long "${LONG:-2000}"
  "$B" -m "$MODEL" rss --streams 1 --tokens "${TOKENS:-1000}"
  "$B" -m "$MODEL" rss --streams 4 --tokens "${TOKENS:-1000}"
  echo "{\"uptime_after\": \"$(uptime)\"}"
}
if [ -e "$LOCK" ] || [ -d "$(dirname "$LOCK")" ]; then
  exec 9>"$LOCK"
  flock 9
fi
run | tee "$OUT/latest.jsonl"

#!/usr/bin/env bash
# Engine benchmark: our engine vs onnxruntime-genai on a full-size Phi-4-mini-shaped
# model (random weights), same threads, engines alternating run by run.
#   MODEL (default /work/models/phi-4-mini-int4; built with build-model if absent)
#   THREADS (default 2), RUNS (default 2), PROMPTS (default 128,512,2048), DECODE (64)
set -euo pipefail
BUILD=${1:-build}
MODEL=${MODEL:-/work/models/phi-4-mini-int4}
if [ ! -f "$MODEL/genai_config.json" ]; then
  echo "bench-engine: building $MODEL (random weights, ~4.9 GB, a few minutes)" >&2
  "$BUILD/onnxllm" build-model --preset phi-4-mini --seed 1 -o "$MODEL" -q
fi
exec "$BUILD/bench/engine/bench_engine" -m "$MODEL" --threads "${THREADS:-2}" --runs "${RUNS:-2}" \
  --prompts "${PROMPTS:-128,512,2048}" --decode "${DECODE:-64}"

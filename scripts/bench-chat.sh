#!/usr/bin/env bash
# Chat layer and CLI benchmark: bench_chat (template render, tool-call parse, stop matcher)
# and `onnxllm bench` on the demo model (random weights, Phi-4-mini vocabulary, 4 layers).
#   P, N: prompt and generated tokens for onnxllm bench (default 128, 64)
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
"$BUILD/bench/chat/bench_chat"
DEMO=$BUILD/bench-demo-model
bash tests/cli/make_demo_model.sh "$PWD/$BUILD/onnxllm" "$PWD" "$PWD/$DEMO"
"$BUILD/onnxllm" bench -m "$DEMO" -p "${P:-128}" -n "${N:-64}" -r 3

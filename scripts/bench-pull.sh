#!/usr/bin/env bash
# Download benchmark: what `onnxllm pull` costs on top of the transfer (loopback fake Hub):
# raw libcurl GET vs sha256 vs the full pull (hash + disk + rename) vs a resume at 75%.
#   MB (default 256): size of the served file
set -euo pipefail
BUILD=${1:-build}
exec "$BUILD/bench/pull/bench_pull" "${MB:-256}"

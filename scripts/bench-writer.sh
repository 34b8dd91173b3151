#!/usr/bin/env bash
# Model writer benchmark: wall time, CPU time and peak RSS of `onnxllm build-model`
# for the demo preset (int4 cpu, fp32, int4 cuda layout); the full-size phi-4-mini
# (4.9 GB written) only with BENCH_FULL=1 (output: $BENCH_FULL_DIR, default
# /tmp/onnxllm-bench-phi4). Numbers go to BENCHMARKS.md "## Model writer".
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/onnxllm
OUT=$(mktemp -d /tmp/onnxllm-bench-writer-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
measure() { # name args...
  local name=$1; shift
  /usr/bin/time -v "$BIN" build-model -q "$@" 2>"$OUT/time" >/dev/null
  local wall rss user sys
  wall=$(grep "Elapsed (wall clock)" "$OUT/time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$OUT/time" | awk '{print $NF}')
  user=$(grep "User time" "$OUT/time" | awk '{print $NF}')
  sys=$(grep "System time" "$OUT/time" | awk '{print $NF}')
  printf '%-28s wall %8s  cpu %6.1f s  peak RSS %7.0f MiB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
measure "tiny-gqa int4 cpu" --preset tiny-gqa -o "$OUT/t"
measure "demo int4 cpu" --preset demo -o "$OUT/d1"
measure "demo fp32 cpu" --preset demo --precision fp32 -o "$OUT/d2"
measure "demo int4 cuda layout" --preset demo --ep cuda -o "$OUT/d3"
if [ "${BENCH_FULL:-0}" = 1 ]; then
  DIR=${BENCH_FULL_DIR:-/tmp/onnxllm-bench-phi4}
  measure "phi-4-mini int4 cpu (full)" --preset phi-4-mini -o "$DIR"
  du -b "$DIR/model.onnx.data" "$DIR/model.onnx"
fi

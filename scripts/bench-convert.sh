#!/usr/bin/env bash
# convert / quantize benchmark: wall time, CPU time and peak RSS of
#   onnxllm convert   on a random Phi-4-mini-shaped bf16 checkpoint (2 shards + index;
#                     4 layers by default, all 32 with BENCH_FULL=1: 7.7 GB in, 4.9 GB out;
#                     --precision fp32 only at 4 layers)
#   onnxllm quantize  of `build-model --preset demo --precision fp32` (BENCH_FULL=1: of the
#                     full-size phi-4-mini fp32 model, 15 GB in)
# Temporary files go to $BENCH_DIR (default /tmp). Numbers go to BENCHMARKS.md
# "## Convert and quantize".
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/onnxllm
OUT=$(mktemp -d "${BENCH_DIR:-/tmp}/onnxllm-bench-convert-XXXXXX")
trap 'rm -rf "$OUT"' EXIT
measure() { # name command...
  local name=$1; shift
  /usr/bin/time -v "$@" 2>"$OUT/time" >/dev/null
  local wall rss user sys
  wall=$(grep "Elapsed (wall clock)" "$OUT/time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$OUT/time" | awk '{print $NF}')
  user=$(grep "User time" "$OUT/time" | awk '{print $NF}')
  sys=$(grep "System time" "$OUT/time" | awk '{print $NF}')
  printf '%-40s wall %8s  cpu %6.1f s  peak RSS %7.0f MiB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
LAYERS=4
[ "${BENCH_FULL:-0}" = 1 ] && LAYERS=32
measure "make_ckpt ($LAYERS layers, bf16)" "$BUILD/bench/convert/make_ckpt" "$OUT/hf" "$LAYERS"
du -cb "$OUT"/hf/*.safetensors | tail -1
measure "convert int4 cpu ($LAYERS layers)" "$BIN" convert -q --from "$OUT/hf" -o "$OUT/int4"
du -b "$OUT/int4/model.onnx.data"
rm -rf "$OUT/int4"
if [ "${BENCH_FULL:-0}" != 1 ]; then # full size: 15 GB of fp32 output, skipped
  measure "convert fp32 cpu ($LAYERS layers)" "$BIN" convert -q --from "$OUT/hf" -o "$OUT/fp32" --precision fp32
  rm -rf "$OUT/fp32"
fi
rm -rf "$OUT/hf"
PRESET=demo
[ "${BENCH_FULL:-0}" = 1 ] && PRESET=phi-4-mini
"$BIN" build-model -q --preset $PRESET --precision fp32 -o "$OUT/m32"
measure "quantize ($PRESET fp32 → int4)" "$BIN" quantize -q "$OUT/m32" "$OUT/q4"
"$BIN" build-model -q --preset $PRESET -o "$OUT/b4"
for f in model.onnx model.onnx.data genai_config.json; do
  cmp -s "$OUT/q4/$f" "$OUT/b4/$f" && echo "$f: identical to build-model int4" || echo "$f: DIFFERS"
done

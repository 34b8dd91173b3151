#!/usr/bin/env bash
# olm_fuzz_run.sh BIN SECONDS WORK_CORPUS SEED_CORPUS [libFuzzer args...] — one fuzz
# run as ctest registers it (cmake/OlmFuzz.cmake). ONNXLLM_FUZZ_SECONDS overrides
# SECONDS (scripts/fuzz.sh). New inputs go to WORK_CORPUS; the seeds are only read.
# A run that outlives its budget by 120 s is killed (a hang is a failure too).
set -u
BIN=$1 SECS=${ONNXLLM_FUZZ_SECONDS:-$2} WORK=$3 SEEDS=$4
shift 4
mkdir -p "$WORK"
[ -d "$SEEDS" ] || { echo "seed corpus $SEEDS missing"; exit 1; }
# a fixed seed keeps the short CI run repeatable; long runs (ONNXLLM_FUZZ_SECONDS) vary
SEED=()
[ -z "${ONNXLLM_FUZZ_SECONDS:-}" ] && SEED=(-seed=1)
timeout -k 10 $((SECS + 120)) "$BIN" -max_total_time="$SECS" "${SEED[@]}" "$@" "$WORK" "$SEEDS"
rc=$?
[ $rc -eq 124 ] && echo "fuzz run did not end within $((SECS + 120)) s"
exit $rc

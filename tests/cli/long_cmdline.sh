#!/usr/bin/env bash
# long_cmdline.sh ONNXLLM MODEL_DIR — a 200 KB command line (users paste long prompts)
# must not crash run / chat / generate (bench takes no free text). ORT's CreateEnv matches a std::regex
# against /proc/self/cmdline, recursing ~250 bytes of stack per byte: with an 8 MB main
# stack anything above ~32 KB died with SIGSEGV before the engine creates the ORT
# environment on a thread with a stack sized from the command line.
# (One argument is at most 128 KiB on Linux, so the 200 KB come in two.)
set -u
BIN=$1 MODEL=$2
passed=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { # NAME EXPECTED_RC ACTUAL_RC [GREP_PATTERN FILE]
  if [ "$3" = "$2" ] && { [ $# -lt 4 ] || grep -q -- "$4" "$5"; }; then passed=$((passed + 1)); echo "ok   $1";
  else failed=$((failed + 1)); echo "FAIL $1: exit $3 (expected $2)"; tail -c 400 "${5:-/dev/null}"; fi
}
ulimit -s 8192 # the usual default; the crash needs the command line to outgrow it
HALF=$(printf '=%.0s' $(seq 1 100000)) # 100 KB; '=' * 64 is one Phi-4 token: ~3,100 prompt tokens in all
"$BIN" run -m "$MODEL" --system "$HALF" -p "$HALF" -n 2 --temperature 0 --json >"$T/run" 2>&1
check "run with a 200 KB prompt (system + user)" 0 $? '"prompt_tokens":3' "$T/run"
echo /exit | "$BIN" chat -m "$MODEL" -s "$HALF" --stop "$HALF" -n 2 >"$T/chat" 2>&1
check "chat with a 200 KB command line" 0 $? 
IDS=$(seq -s, 1 16000)
# 16k ids exceed the default KV capacity (4096): a clear error, not a crash (exit 1: the
# command line is well formed, the prompt does not fit the model's capacity)
"$BIN" generate -m "$MODEL" --ids "$IDS" -n 1 --greedy >"$T/gen" 2>&1
check "generate --ids with 16k ids (exceeds max_length: clear error)" 1 $? "max-length" "$T/gen"
echo "long_cmdline: $passed passed, $failed failed"
[ $failed -eq 0 ]

#!/usr/bin/env bash
# The heavy deployment checks (results go to BENCHMARKS.md "Deployment"):
#   scripts/deploy-test.sh container [BUILD_DIR]  image from the offline base: builds, starts,
#                                       /health turns 200, HEALTHCHECK passes, a chat request
#                                       answers, SIGTERM during a stream lets it finish and the
#                                       container exits 0
#   scripts/deploy-test.sh fleet [BUILD_DIR]      3 replicas behind nginx, 6 agent sessions x 5
#                                       turns: affinity, round-robin, affinity + a replica killed
#                                       (SIGKILL), affinity + a replica drained (SIGTERM)
#   scripts/deploy-test.sh all [BUILD_DIR]
# SKIP_BUILD=1: test the image $IMAGE as it is (default localhost/onnxllm:latest).
# Needs root for podman (scripts/make-base-image.sh installs it). Builds compile the whole
# project in the image: run on a quiet machine, one at a time (nice -n 10 here).
# Uses the demo model (random weights, Phi-4-mini's tokenizer) in models/demo, made with
# BUILD_DIR/onnxllm when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
what=${1:-all}
BUILD=${2:-build}
BIN=$ROOT/$BUILD/onnxllm
MODEL=${DEMO:-$ROOT/models/demo}
IMAGE=${IMAGE:-localhost/onnxllm:latest}
PODMAN=(bash "$ROOT/scripts/podman.sh")
OUT=${OUT:-$ROOT/tmp/deploy-test}
mkdir -p "$OUT"

[ -x "$BIN" ] || { echo "deploy-test: build first (make build): no $BIN" >&2; exit 1; }
if [ ! -f "$MODEL/genai_config.json" ]; then
  echo "deploy-test: making the demo model in $MODEL"
  "$BIN" build-model --preset demo --seed 1 -o "$MODEL" -q
fi
say() { echo "deploy-test: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

container() {
  bash scripts/make-base-image.sh
  local t0; t0=$(now) build_s="(not rebuilt)"
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    say "building $IMAGE (nice -n 10; log: $OUT/build.log)"
    nice -n 10 "${PODMAN[@]}" build --format docker --network host -t "$IMAGE" . >"$OUT/build.log" 2>&1 ||
      { tail -30 "$OUT/build.log"; exit 1; }
    build_s=$(since "$t0")
  fi
  local size; size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
  say "built in ${build_s} s, $((size / 1000000)) MB"
  "${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true

  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local name=onnxllm-deploy-test-$$
  # --network host: the server is reached on 127.0.0.1 (no bridge, no other address);
  # --health-interval=disable: no systemd here to schedule the checks, we run one below.
  t0=$(now)
  "${PODMAN[@]}" run -d --name "$name" --network host --health-interval=disable \
    -v "$MODEL:/models:ro" -e PORT="$port" "$IMAGE" \
    --model /models --host 127.0.0.1 --port "$port" --threads 1 --drain-timeout 30 >/dev/null
  trap '"${PODMAN[@]}" rm -f "$name" >/dev/null 2>&1 || true' EXIT # also when a check fails (exit 1)
  local code="" seen503=0
  for _ in $(seq 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
    [ "$code" = 503 ] && seen503=1
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  local ready_s; ready_s=$(since "$t0")
  [ "$code" = 200 ] || { "${PODMAN[@]}" logs "$name" | tail; say "FAIL: /health never 200"; exit 1; }
  say "/health 200 after ${ready_s} s (503 seen while loading: $seen503)"
  curl -sf "http://127.0.0.1:$port/livez" >/dev/null && say "/livez 200" || { say "FAIL: /livez"; exit 1; }
  "${PODMAN[@]}" healthcheck run "$name" && say "image HEALTHCHECK: healthy" || { say "FAIL: HEALTHCHECK"; exit 1; }
  [ "$("${PODMAN[@]}" exec "$name" id -u)" = 10001 ] && say "runs as uid 10001" || { say "FAIL: not uid 10001"; exit 1; }

  local ans
  ans=$(curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"model":"onnx-local","max_tokens":16,"messages":[{"role":"user","content":"Hello!"}]}')
  node -e 'const j=JSON.parse(process.argv[1]); if(!(j.choices[0].message.content.length>0 && j.usage.completion_tokens>0)) process.exit(1)' "$ans" &&
    say "chat request answered: $(cut -c1-120 <<<"$ans")" || { say "FAIL: chat answer $ans"; exit 1; }

  # SIGTERM during a stream: the stream must end normally ([DONE]) and the container exit 0
  curl -sN "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"model":"onnx-local","max_tokens":400,"stream":true,"ignore_eos":true,"messages":[{"role":"user","content":"Count to a thousand."}]}' \
    >"$OUT/stream.txt" &
  local curl_pid=$!
  for _ in $(seq 200); do [ -s "$OUT/stream.txt" ] && break; sleep 0.05; done
  sleep 0.5
  local chunks_before; chunks_before=$(grep -c '^data: ' "$OUT/stream.txt" || true)
  t0=$(now)
  "${PODMAN[@]}" kill --signal TERM "$name" >/dev/null
  sleep 0.5
  local during; during=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/health" || true)
  wait "$curl_pid" || true
  local rc; rc=$("${PODMAN[@]}" wait "$name")
  local stop_s; stop_s=$(since "$t0")
  local chunks; chunks=$(grep -c '^data: ' "$OUT/stream.txt" || true)
  say "SIGTERM with the stream at $chunks_before events: stream finished with $chunks events, /health during the drain: $during, container exit code $rc after ${stop_s} s"
  tail -n 2 "$OUT/stream.txt" | grep -q '^data: \[DONE\]' || { say "FAIL: the stream did not finish"; exit 1; }
  grep -q '"finish_reason":"length"' "$OUT/stream.txt" || { say "FAIL: no finish_reason length"; exit 1; }
  [ "$rc" = 0 ] || { "${PODMAN[@]}" logs "$name" | tail; say "FAIL: exit code $rc"; exit 1; }
  "${PODMAN[@]}" logs "$name" 2>&1 | tail -3
  printf '| container | image %s MB, build %s s, /health 200 after %s s, HEALTHCHECK healthy, chat ok, SIGTERM mid-stream: stream completed (%s -> %s events), exit 0 after %s s |\n' \
    "$((size / 1000000))" "$build_s" "$ready_s" "$chunks_before" "$chunks" "$stop_s" | tee -a "$OUT/results.md"
}

fleet() {
  local mode
  for mode in affinity roundrobin affinity-kill affinity-stop; do
    local args=(--mode "${mode%-*}")
    [ "$mode" = affinity-kill ] && args+=(--kill)
    [ "$mode" = affinity-stop ] && args+=(--stop)
    [ "$mode" = roundrobin ] && args+=(--min-hit-rate 0)
    say "fleet: $mode"
    # --parallel 6: enough scheduler slots to keep every session a replica may get (the
    # spread of 6 sessions over 3 replicas by hashing is uneven; 5 on one is possible)
    node tests/deploy/fleet.mjs --onnxllm "$BIN" --model "$MODEL" "${args[@]}" --json "$OUT/fleet-$mode.json" \
      --serve-arg --parallel --serve-arg 6 \
      --metrics-out "$OUT/metrics.txt" | tail -1
    node -e '
      const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const m = s.metrics;
      console.log(`| ${process.argv[2]} | ${s.turns_after_first} | ${(100 * s.turn_hit_rate).toFixed(1)} % | ${(100 * s.metrics_token_hit_rate).toFixed(1)} % (${m.hits}/${m.queries}) | ${s.per_replica_sessions.map((l) => l.length).join("/")} | ${s.stop ? `replica with sessions ${s.killed.sessions} stopped (SIGTERM) at turn 3: ${s.requests_failed_by_kill} request(s) failed, it exited ${s.drained_exit.code}, all ${s.sessions} sessions completed` : s.kill ? `replica with sessions ${s.killed.sessions} killed (SIGKILL) at turn 3: ${s.requests_failed_by_kill} request(s) failed (in flight on it, retried ok), all ${s.sessions} sessions completed` : s.failed.length + " failed"} | ${s.wall_s.toFixed(1)} s |`)' \
      "$OUT/fleet-$mode.json" "$mode" | tee -a "$OUT/results.md"
  done
  node tools/deploy/check.mjs --root "$ROOT" --onnxllm "$BIN" --metrics "$OUT/metrics.txt" | tail -2
}

: >"$OUT/results.md"
say "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
case "$what" in
  container) container ;;
  fleet) fleet ;;
  all) fleet; container ;;
  *) echo "usage: $0 container|fleet|all [BUILD_DIR]" >&2; exit 2 ;;
esac
say "load after: $(cut -d' ' -f1-3 /proc/loadavg); results: $OUT/results.md"

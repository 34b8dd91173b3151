#!/usr/bin/env bash
# install_example.sh BUILD_DIR SOURCE_DIR MODEL_DIR — `make install PREFIX=…` as a user
# would use it: install into a fresh prefix, then compile examples/simple.c with exactly
# the README's one line (pkg-config, nothing else) and run it on the demo model with no
# LD_LIBRARY_PATH. Also: the shared library exports only onnxllm_* symbols.
set -u
BUILD=$1 SRC=$2 MODEL=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 && ok || { fail "cmake --install"; cat "$T/install.log"; }
for f in bin/onnxllm include/onnxllm.h lib/libonnxllm.so lib/pkgconfig/onnxllm.pc; do
  [ -e "$P/$f" ] && ok || fail "installed $f"
done
# the README's line, verbatim apart from the prefix
cd "$T"
cp "$SRC/examples/simple.c" .
export PKG_CONFIG_PATH=$P/lib/pkgconfig
cc simple.c $(pkg-config --cflags --libs onnxllm) -o simple 2>"$T/cc.log" && ok || { fail "one-line compile"; cat "$T/cc.log"; }
out=$(env -u LD_LIBRARY_PATH ./simple "$MODEL" "Hello" 2>"$T/run.log") && [ -n "$out" ] && ok ||
  { fail "installed example runs"; cat "$T/run.log"; }
grep -Eq "[1-9][0-9]* prompt tokens" "$T/run.log" && ok || { fail "example's stats line"; cat "$T/run.log"; }
# the installed CLI runs from the prefix too
env -u LD_LIBRARY_PATH "$P/bin/onnxllm" --version | grep -q "^onnxllm [0-9]" && ok || fail "installed CLI"
# only the public API is exported
bad=$(nm -D --defined-only "$P/lib/libonnxllm.so" | awk '{print $3}' | grep -v '^onnxllm_' | grep -v '^_' || true)
[ -z "$bad" ] && ok || fail "non-API symbols exported: $(echo $bad | head -c 300)"
# every function the header declares is exported (the Server section by libonnxllm_server.so)
missing=""
for f in $(grep -oE '\bonnxllm_[a-z0-9_]+\(' "$P/include/onnxllm.h" | tr -d '(' | sort -u); do
  lib=libonnxllm.so
  case $f in onnxllm_server_*) lib=libonnxllm_server.so ;; esac
  nm -D --defined-only "$P/lib/$lib" | grep -q " $f\$" || missing="$missing $f"
done
bad=$(nm -D --defined-only "$P/lib/libonnxllm_server.so" | awk '{print $3}' | grep -v '^onnxllm_server_' | grep -v '^_' || true)
[ -z "$bad" ] && ok || fail "libonnxllm_server.so exports non-API symbols: $(echo $bad | head -c 300)"
[ -z "$missing" ] && ok || fail "declared but not exported:$missing"
echo "install_example: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

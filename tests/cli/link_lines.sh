#!/usr/bin/env bash
# link_lines.sh BUILD_DIR — the components' link lines are honest (CMakeLists.txt): what a
# binary needs at run time follows from what it links. libonnxllm.so needs ONNX Runtime and
# the tokenizer's and pull's libraries but never libmicrohttpd (only the server has it) nor
# libedit (only the CLI's chat); a program of the tokenizer component alone needs neither
# ONNX Runtime nor libcurl; src/common alone needs cJSON only.
set -u
B=$1
passed=0 failed=0
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
# expect FILE MUST_HAVE_REGEX MUST_NOT_HAVE_REGEX
expect() {
  local n
  n=$(needed "$1")
  if [ -z "$n" ]; then failed=$((failed + 1)); echo "FAIL $1: not found or not dynamic"; return; fi
  if [ -n "$2" ] && ! grep -Eq "$2" <<<"$n"; then failed=$((failed + 1)); echo "FAIL $1 lacks /$2/: $n"; return; fi
  if [ -n "$3" ] && grep -Eq "$3" <<<"$n"; then failed=$((failed + 1)); echo "FAIL $1 needs /$3/: $n"; return; fi
  passed=$((passed + 1))
}
expect "$B/libonnxllm.so" 'libonnxruntime.*libcjson|libcjson.*libonnxruntime' 'microhttpd|libedit'
expect "$B/libonnxllm.so" 'libcurl' ''
expect "$B/onnxllm" 'libonnxllm\.so' 'libonnxruntime|libcurl|libutf8proc|libpcre2' # the CLI: through libonnxllm only
expect "$B/tests/tokenizer/test_tokenizer" 'libutf8proc' 'onnxruntime|libcurl|microhttpd|libcrypto'
expect "$B/tests/chat/test_chat" 'libcjson' 'onnxruntime|libcurl|microhttpd|libcrypto'
expect "$B/tests/common/test_common" 'libcjson' 'onnxruntime|libcurl|microhttpd|utf8proc|pcre2'
if [ -f "$B/libonnxllm_server.so" ]; then expect "$B/libonnxllm_server.so" 'microhttpd' 'libedit'; fi
echo "link_lines: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

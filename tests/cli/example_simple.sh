#!/usr/bin/env bash
# Runs examples/simple.c on the demo model: it must succeed, stream some text and
# report its token counts; a missing model folder must fail with a clear message.
set -u
BIN=$1 MODEL=$2
out=$("$BIN" "$MODEL" "Hello there" 2>/tmp/example_simple.$$) || { echo "FAIL: exit $?"; cat /tmp/example_simple.$$; exit 1; }
grep -Eq "\[[1-9][0-9]* prompt tokens, [0-9]+ generated, [0-9.]*[1-9][0-9.]* ms to first token" /tmp/example_simple.$$ || { echo "FAIL: no stats line"; cat /tmp/example_simple.$$; exit 1; }
[ -n "$out" ] || { echo "FAIL: no text streamed"; exit 1; }
if "$BIN" /nonexistent-model "x" 2>/tmp/example_simple.$$; then echo "FAIL: missing model accepted"; exit 1; fi
grep -q "/nonexistent-model" /tmp/example_simple.$$ || { echo "FAIL: error does not name the folder"; cat /tmp/example_simple.$$; exit 1; }
rm -f /tmp/example_simple.$$
echo "example_simple: 2 passed, 0 failed"

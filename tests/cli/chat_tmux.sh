#!/usr/bin/env bash
# chat_tmux.sh ONNXLLM MODEL_DIR — `onnxllm chat` driven like a person would, in tmux:
# a message gets an answer and the tokens/s line; /reset, /system, /save, multi-line
# input; Ctrl-C during a long answer returns to the prompt; /exit → 0; Ctrl-C at the
# prompt → 130.
set -u
BIN=$1 MODEL=$2
T=$(mktemp -d)
S=olmchat$$
passed=0 failed=0
trap 'tmux kill-session -t $S 2>/dev/null; tmux kill-session -t ${S}b 2>/dev/null; rm -rf "$T"' EXIT
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $1"; echo "--- screen:"; tmux capture-pane -p -J -t "$2" -S -60 2>/dev/null | tail -25; }
# wait_for SESSION REGEX SECONDS: the pane (with history) matches REGEX
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    tmux capture-pane -p -J -t "$1" -S -200 2>/dev/null | grep -Eq -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
count() { tmux capture-pane -p -J -t "$1" -S -200 | grep -Ec -- "$2"; }

tmux new-session -d -s $S -x 160 -y 50 "$BIN chat -m $MODEL -n 12 --seed 7 2>&1; echo EXIT=\$?; sleep 30"
wait_for $S '^>( |$)' 60 && ok || fail "prompt shown" $S
tmux send-keys -t $S 'Hello there' Enter
wait_for $S '\[[0-9]+ tokens, [0-9.]+ tokens/s, first token after [0-9]+ ms, [0-9]+ prompt tokens computed\]' 60 && ok || fail "answer + tokens/s line" $S
# multi-line: trailing backslash
tmux send-keys -t $S 'first line \' Enter 'second line' Enter
wait_for $S '^\.\.\. ' 10 && ok || fail "continuation prompt" $S
for ((i = 0; i < 100; i++)); do [ "$(count $S 'tokens/s')" -ge 2 ] && break; sleep 0.1; done
[ "$(count $S 'tokens/s')" -ge 2 ] && ok || fail "second answer" $S
tmux send-keys -t $S "/save $T/conv.json" Enter
wait_for $S "saved 4 messages" 10 && ok || fail "/save" $S
node -e '
const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).messages;
const ok = m.length === 4 && m[0].role === "user" && m[0].content === "Hello there" &&
  m[1].role === "assistant" && m[2].content === "first line \nsecond line" && m[3].role === "assistant";
process.exit(ok ? 0 : 1);' "$T/conv.json" && ok || fail "/save content" $S
# the second turn reuses the cached conversation: fewer prompt tokens computed than the
# whole rendered conversation (apply-template --ids of the first three messages)
full=$(node -e '
const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).messages.slice(0, 3);
process.stdout.write(JSON.stringify({messages: m, add_generation_prompt: true}));' "$T/conv.json" |
  "$BIN" apply-template -m "$MODEL" --ids | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0)).length))')
second=$(tmux capture-pane -p -J -t $S -S -200 | grep -Eo '[0-9]+ prompt tokens computed' | sed -n 2p | cut -d' ' -f1)
[ -n "$second" ] && [ -n "$full" ] && [ "$second" -lt "$full" ] && [ "$second" -ge 5 ] && ok ||
  fail "prefix reuse: $second of $full prompt tokens computed" $S
tmux send-keys -t $S '/system Be brief.' Enter
wait_for $S 'system message set' 10 && ok || fail "/system" $S
tmux send-keys -t $S '/reset' Enter
wait_for $S 'conversation reset' 10 && ok || fail "/reset" $S
tmux send-keys -t $S "/save $T/after.json" Enter
wait_for $S "saved 1 messages" 10 && ok || fail "/reset keeps only the system message" $S
tmux send-keys -t $S '/bogus' Enter
wait_for $S 'unknown command /bogus' 10 && ok || fail "unknown command" $S
tmux send-keys -t $S '/exit' Enter
wait_for $S '^EXIT=0' 20 && ok || fail "/exit → 0" $S
tmux kill-session -t $S

# Ctrl-C during a long answer, then at the prompt
tmux new-session -d -s ${S}b -x 160 -y 50 "$BIN chat -m $MODEL -n 100000 --max-length 4096 --seed 5 2>&1; echo EXIT=\$?; sleep 30"
wait_for ${S}b '^>( |$)' 60 && ok || fail "prompt shown (2)" ${S}b
tmux send-keys -t ${S}b 'Write a very long story' Enter
sleep 1.5
tmux send-keys -t ${S}b C-c
wait_for ${S}b 'interrupted(\]| before)' 20 && ok || fail "Ctrl-C stops the answer" ${S}b
tmux send-keys -t ${S}b 'still here?' Enter
sleep 0.5
tmux send-keys -t ${S}b C-c
# (under load the Ctrl-C may land before the answer starts: the message is then dropped)
for ((i = 0; i < 200; i++)); do [ "$(count ${S}b 'interrupted(\]| before)')" -ge 2 ] && break; sleep 0.1; done
[ "$(count ${S}b 'interrupted(\]| before)')" -ge 2 ] && ok || fail "second answer after Ctrl-C" ${S}b
wait_for ${S}b '^>( |$)' 10 && ok || fail "prompt again" ${S}b
sleep 0.3
tmux send-keys -t ${S}b C-c
wait_for ${S}b '^EXIT=130' 20 && ok || fail "Ctrl-C at the prompt → 130" ${S}b

echo "chat tmux: $passed passed, $failed failed"
[ $failed -eq 0 ]

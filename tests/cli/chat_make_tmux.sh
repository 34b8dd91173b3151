#!/usr/bin/env bash
# chat_make_tmux.sh ONNXLLM SOURCE_DIR MODEL_DIR — `make run` driven like a person would,
# in tmux (issue 13, items 3 and 4):
#   3  the chat owns the terminal's Ctrl-C when make runs it: Ctrl-C stops the answer and
#      make neither reports an error nor exits 130 after /exit; with `make run | cat` one
#      Ctrl-C does not end everything; Ctrl-C at the prompt ends the chat and make exits 0
#   4  line editing and history: Home/Right edit the line (no escape codes reach the
#      model), Up recalls the previous line, the history is kept in
#      $XDG_STATE_HOME/onnxllm/history and recalled by the next chat
# The recipe is `make run`'s: scripts/run.sh with MODEL given (a copy of the demo model
# whose eos id is never generated, so answers are long enough to interrupt).
set -u
BIN=$1 SRC=$2 MODEL=$3
T=$(mktemp -d)
S=olmmake$$
passed=0 failed=0
trap 'for x in a b c d e; do tmux kill-session -t $S$x 2>/dev/null; done; rm -rf "$T"' EXIT
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $1"; echo "--- screen:"; tmux capture-pane -p -J -t "$2" -S -200 2>/dev/null | grep -v '^$' | tail -25; }
wait_for() { # SESSION REGEX SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    tmux capture-pane -p -J -t "$1" -S -200 2>/dev/null | grep -Eq -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
count() { tmux capture-pane -p -J -t "$1" -S -200 | grep -Ec -- "$2"; }
screen_has() { tmux capture-pane -p -J -t "$1" -S -200 | grep -Eq -- "$2"; }

# m: long answers (the eos id is the embedding's last row, which no token maps to);
# s: short ones (search.max_length 64 cuts them)
cp -r "$MODEL" "$T/m"
cp -r "$MODEL" "$T/s"
node -e "
const fs=require('fs');
for (const [d, f] of [['$T/m', c => { c.model.eos_token_id = [c.model.vocab_size - 1]; c.search.max_length = 4096; }],
                      ['$T/s', c => { c.search.max_length = 64; }]]) {
  const p = d + '/genai_config.json', c = JSON.parse(fs.readFileSync(p)); f(c); fs.writeFileSync(p, JSON.stringify(c, null, 2));
}"
printf 'run:\n\t@MODEL=$(MODEL) bash scripts/run.sh $(BIN)\n' >"$T/Makefile"
MK="cd '$SRC' && XDG_STATE_HOME='$T/state' make -s -f '$T/Makefile' BIN='$BIN' MODEL='$T/m'"

# ---- 3a: Ctrl-C during an answer under make, then /exit: make exits 0, no error ----------
tmux new-session -d -s ${S}a -x 160 -y 50 "$MK; echo MAKE_EXIT=\$?; sleep 30"
wait_for ${S}a '^>( |$)' 90 && ok || fail "make: prompt shown" ${S}a
tmux send-keys -t ${S}a 'Write a very long story' Enter
sleep 1.5
tmux send-keys -t ${S}a C-c
wait_for ${S}a 'interrupted(\]| before)' 20 && ok || fail "make: Ctrl-C stops the answer" ${S}a
wait_for ${S}a '^>( |$)' 10 && ok || fail "make: the prompt comes back" ${S}a
tmux send-keys -t ${S}a '/exit' Enter
wait_for ${S}a '^MAKE_EXIT=' 20
wait_for ${S}a '^MAKE_EXIT=0' 1 && ok || fail "make: exit 0 after Ctrl-C + /exit" ${S}a
screen_has ${S}a 'make: \*\*\*|Interrupt|Error 130' && fail "make: reported an error" ${S}a || ok

# ---- 3b: the same through a pipe (make run | cat): the pipe survives the Ctrl-C ---------
tmux new-session -d -s ${S}b -x 160 -y 50 "$MK | cat; echo PIPE_EXIT=\${PIPESTATUS[0]},\${PIPESTATUS[1]}; sleep 30"
wait_for ${S}b '^>( |$)' 90 && ok || fail "pipe: prompt shown" ${S}b
tmux send-keys -t ${S}b 'Write a very long story' Enter
sleep 1.5
tmux send-keys -t ${S}b C-c
wait_for ${S}b 'interrupted(\]| before)' 20 && ok || fail "pipe: Ctrl-C stops the answer" ${S}b
wait_for ${S}b '^>( |$)' 10
tmux send-keys -t ${S}b 'still there?' Enter
sleep 1.5
tmux send-keys -t ${S}b C-c
# a second interrupted answer: the chat (and the pipe) outlived the first Ctrl-C
for ((i = 0; i < 200; i++)); do [ "$(count ${S}b 'interrupted(\]| before)')" -ge 2 ] && break; sleep 0.1; done
[ "$(count ${S}b 'interrupted(\]| before)')" -ge 2 ] && ok || fail "pipe: the chat goes on after Ctrl-C" ${S}b
wait_for ${S}b '^>( |$)' 10
sleep 0.3
tmux send-keys -t ${S}b '/exit' Enter
wait_for ${S}b '^PIPE_EXIT=' 20
wait_for ${S}b '^PIPE_EXIT=0,0' 1 && ok || fail "pipe: make and cat exit 0" ${S}b

# ---- 3c: Ctrl-C at the prompt ends the chat; make exits 0 without an error -------------
tmux new-session -d -s ${S}c -x 160 -y 50 "$MK; echo MAKE_EXIT=\$?; stty -a | grep -o ' echo ' ; sleep 30"
wait_for ${S}c '^>( |$)' 90 && ok || fail "prompt: shown" ${S}c
sleep 0.3
tmux send-keys -t ${S}c C-c
wait_for ${S}c '^MAKE_EXIT=' 20
wait_for ${S}c '^MAKE_EXIT=0' 1 && ok || fail "prompt: Ctrl-C there ends make with 0" ${S}c
screen_has ${S}c 'make: \*\*\*|Interrupt|Error 130' && fail "prompt: make reported an error" ${S}c || ok
wait_for ${S}c '^ ?echo ?$' 5 && ok || fail "prompt: the terminal's echo is back after the chat" ${S}c

# ---- 4: line editing and history -------------------------------------------------------
MK=${MK/"MODEL='$T/m'"/"MODEL='$T/s'"}
tmux new-session -d -s ${S}d -x 160 -y 50 "$MK; echo MAKE_EXIT=\$?; sleep 30"
wait_for ${S}d '^>( |$)' 90 && ok || fail "edit: prompt shown" ${S}d
# "hllo" → Home, Right, "e" → "hello"
tmux send-keys -t ${S}d 'hllo'
tmux send-keys -t ${S}d Home Right
tmux send-keys -t ${S}d 'e' Enter
wait_for ${S}d 'first token after' 60 && ok || fail "edit: first answer" ${S}d
tmux send-keys -t ${S}d Up Enter # the previous line again
for ((i = 0; i < 200; i++)); do [ "$(count ${S}d 'first token after')" -ge 2 ] && break; sleep 0.1; done
[ "$(count ${S}d 'first token after')" -ge 2 ] && ok || fail "edit: second answer" ${S}d
tmux send-keys -t ${S}d "/save $T/conv.json" Enter
wait_for ${S}d 'saved [0-9]+ messages' 10 && ok || fail "edit: /save" ${S}d
# (the 64-token capacity keeps only the latest exchange: the recalled line)
node -e "
const m=JSON.parse(require('fs').readFileSync('$T/conv.json','utf8')).messages.filter(x=>x.role==='user');
process.exit(m.length>=1 && m.every(x=>x.content==='hello') ? 0 : 1)" && ok ||
  { fail "edit: the model got 'hello' (edited, then recalled), no escape codes" ${S}d; cat "$T/conv.json"; }
[ "$(count ${S}d '^> hello$')" -ge 2 ] && ok || fail "edit: the screen shows the edited and the recalled line" ${S}d
tmux send-keys -t ${S}d '/exit' Enter
wait_for ${S}d '^MAKE_EXIT=0' 20 && ok || fail "edit: /exit" ${S}d
grep -qx 'hello' "$T/state/onnxllm/history" && ok || fail "edit: history file in \$XDG_STATE_HOME/onnxllm" ${S}d
# the next chat recalls the previous one's lines: Up Up is "/save ..." (Up is "/exit")
tmux new-session -d -s ${S}e -x 160 -y 50 "$MK; echo MAKE_EXIT=\$?; sleep 30"
wait_for ${S}e '^>( |$)' 90 && ok || fail "history: prompt shown" ${S}e
rm -f "$T/conv.json"
tmux send-keys -t ${S}e Up Up Enter
wait_for ${S}e 'saved 0 messages' 10 && ok || fail "history: Up recalls the previous session's last line" ${S}e
tmux send-keys -t ${S}e '/exit' Enter
wait_for ${S}e '^MAKE_EXIT=0' 20 && ok || fail "history: /exit" ${S}e

echo "chat make tmux: $passed passed, $failed failed"
[ $failed -eq 0 ]

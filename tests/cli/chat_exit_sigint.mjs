// chat_exit_sigint.mjs ONNXLLM MODEL_DIR — Ctrl-C while `onnxllm chat` shuts down after
// /exit (issue 12 #8): the Ctrl-C watcher kept a pointer to the sequence that /exit had
// freed, so a SIGINT during shutdown used it after free (ASan: heap-use-after-free).
// Each round starts chat, waits until it blocks reading stdin (the model is loaded;
// /proc/PID/wchan),
// sends "/exit" and then SIGINT every ~0.2 ms until the process is gone. Exit 130 means
// a SIGINT came before /exit was read (at the prompt: leave at once); exit 0 means
// SIGINTs arrived during the shutdown — at least a few rounds must show that. Any other
// end (a sanitizer report, a signal) fails.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const [bin, model] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wchan = (pid) => { try { return readFileSync(`/proc/${pid}/wchan`, "utf8"); } catch { return ""; } };
const state = (pid) => { try { return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0]; } catch { return "X"; } };
let rounds = 0, during = 0, early = 0, failed = 0;
const t0 = Date.now();
while (rounds < 40 && (during < 3 || rounds < 8) && Date.now() - t0 < 90000) {
  rounds++;
  const c = spawn(bin, ["chat", "-m", model, "-n", "4"], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  c.stderr.on("data", (d) => { err += d; });
  c.stdout.resume();
  const done = new Promise((r) => c.on("exit", (code, sig) => r({ code, sig })));
  for (let i = 0; i < 6000 && !/pipe_read|unix_stream_read/.test(wchan(c.pid)); i++) await sleep(10);
  c.stdin.write("/exit\n");
  const until = Date.now() + 5000;
  while (Date.now() < until && !["Z", "X"].includes(state(c.pid))) {
    try { process.kill(c.pid, "SIGINT"); } catch { break; }
    const s = process.hrtime.bigint();
    while (process.hrtime.bigint() - s < 200000n); // 0.2 ms
  }
  const { code, sig } = await done;
  if (code === 0) during++;
  else if (code === 130) early++;
  else { failed++; console.log(`FAIL round ${rounds}: exit ${code} signal ${sig}\n${err.slice(0, 1500)}`); break; }
}
console.log(`chat_exit_sigint: ${rounds} rounds, ${during} with SIGINTs during shutdown, ${early} at the prompt`);
if (!failed && during === 0) { console.log("FAIL: no round reached the shutdown (cannot tell)"); failed++; }
process.exit(failed ? 1 : 0);

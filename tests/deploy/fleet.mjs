// Fleet test: N `onnxllm serve` replicas on loopback ports behind nginx with
// deploy/nginx/onnxllm.conf, S concurrent agent sessions of T turns each.
//   node fleet.mjs --onnxllm BIN --model DIR [--replicas 3] [--sessions 6] [--turns 5]
//        [--mode affinity|roundrobin] [--kill|--stop] [--json OUT] [--metrics-out FILE] [--serve-arg ARG]...
// Sessions speak the three APIs the way the real clients identify themselves:
//   claude  /v1/messages, header X-Claude-Code-Session-Id (+ metadata.user_id), streamed or not
//   codex   /v1/responses, body prompt_cache_key only (nginx reads it with njs)
//   openai  /v1/chat/completions, body `user` only, streamed with usage
// Every session has its own system prompt, so a turn served by a replica that has not
// seen the session shares nothing with its cache. A turn "hits" when the tokens served
// from the prefix cache (usage: cache_read_input_tokens / cached_tokens) cover the
// session's previous prompt. The replicas' /metrics give the token hit rate
// (vllm:prefix_cache_hits / vllm:prefix_cache_queries) over the turns after the first,
// and must agree with the sum of the usage numbers.
// --kill: once every session has finished turn 2, SIGKILL the replica that serves the most
// sessions; a request failed by the kill must have been in flight on it (the client then
// retries it once, as agents do); every other request must succeed; the killed replica's
// sessions must continue on live replicas (one cache miss each), the others keep hitting.
// Asserts (exit 1 on failure) and prints a JSON summary.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const argv = process.argv.slice(2);
const opt = (n, d) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : d; };
const BIN = opt('--onnxllm');
const MODEL = opt('--model');
const NREP = Number(opt('--replicas', 3));
const NSESS = Number(opt('--sessions', 6));
const NTURNS = Number(opt('--turns', 5));
const MODE = opt('--mode', 'affinity');
const STOP = argv.includes('--stop'); // like --kill, with SIGTERM (a drain: rolling restart)
const KILL = argv.includes('--kill') || STOP;
const JSON_OUT = opt('--json');
const NGINX = opt('--nginx', fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');
const MAX_TOKENS = Number(opt('--max-tokens', 12));
const MIN_HIT = Number(opt('--min-hit-rate', MODE === 'affinity' ? 0.9 : 0));
const serveArgs = argv.flatMap((a, i) => (a === '--serve-arg' ? [argv[i + 1]] : []));
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
if (!BIN || !MODEL) { console.error('usage: fleet.mjs --onnxllm BIN --model DIR ...'); process.exit(2); }

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxllm-fleet-'));
const procs = [];
const failures = [];
const check = (cond, msg) => { if (!cond) failures.push(msg); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[fleet ${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...a);
const T0 = Date.now();

function freePort() {
    return new Promise((res, rej) => {
        const s = net.createServer();
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
        s.on('error', rej);
    });
}

function start(cmd, args, name) {
    const out = fs.openSync(path.join(work, `${name}.log`), 'w');
    const p = spawn(cmd, args, { stdio: ['ignore', out, out] });
    p.name = name;
    p.exited = new Promise((r) => p.on('exit', (code, sig) => r({ code, sig })));
    procs.push(p);
    return p;
}

async function waitHttp(url, timeoutMs) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
        try { const r = await fetch(url); if (r.status === 200) return true; } catch { /* not up yet */ }
        await sleep(200);
    }
    return false;
}

async function scrape(port) {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await r.text();
    const get = (name) => {
        const m = new RegExp(`^${name.replace(/:/g, ':')}(\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
        return m ? Number(m[2]) : NaN;
    };
    return { text, hits: get('vllm:prefix_cache_hits(?:_total)?'), queries: get('vllm:prefix_cache_queries(?:_total)?') };
}

// ---- sessions ------------------------------------------------------------------------
const WORDS = ('alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa ' +
    'quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basalt cedar dune ember fjord ' +
    'granite harbor iris jasper kelp lagoon meadow nectar orchid pebble quartz reef sorrel thistle umber').split(' ');
function words(seed, n) {
    let x = seed * 2654435761 % 4294967296;
    const out = [];
    for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648; out.push(WORDS[x % WORDS.length]); }
    return out.join(' ');
}
const KINDS = ['claude', 'codex', 'openai'];
function makeSession(i) {
    const id = `sess-${i}-${words(i + 1, 2).replace(' ', '-')}`; // fixed: the same spread over the replicas every run
    return {
        i, id, kind: KINDS[i % KINDS.length], stream: i % 2 === 1,
        // unique from the first token on: no shared prefix with another session
        system: `Project ${words(i + 7, 3)}. You are the coding agent of session ${i}. ` +
            `Repository notes: ${words(i + 100, 160)}. Answer briefly.`,
        history: [], // [{role, content}]
        turns: [],   // results
    };
}

function request(s, userText) {
    const messages = [...s.history, { role: 'user', content: userText }];
    if (s.kind === 'claude') {
        return {
            path: '/v1/messages',
            headers: { 'X-Claude-Code-Session-Id': s.id, 'anthropic-version': '2023-06-01' },
            body: { model: 'onnx-local', max_tokens: MAX_TOKENS, system: s.system, messages, stream: s.stream,
                metadata: { user_id: JSON.stringify({ device_id: 'd', session_id: s.id }) } },
        };
    }
    if (s.kind === 'codex') {
        return {
            path: '/v1/responses',
            headers: {},
            body: { model: 'onnx-local', instructions: s.system, max_output_tokens: MAX_TOKENS, stream: s.stream,
                store: false, prompt_cache_key: s.id,
                input: messages.map((m) => ({ type: 'message', role: m.role, content: m.content })) },
        };
    }
    return {
        path: '/v1/chat/completions',
        headers: {},
        body: { model: 'onnx-local', max_tokens: MAX_TOKENS, user: s.id, stream: s.stream,
            ...(s.stream ? { stream_options: { include_usage: true } } : {}),
            messages: [{ role: 'system', content: s.system }, ...messages] },
    };
}

// Reads the answer text and usage from a response (JSON or SSE) of any of the three APIs.
function parseAnswer(kind, text, streamed) {
    let answer = '', prompt = NaN, cached = NaN, complete = !streamed;
    const takeUsage = (u) => {
        if (!u) return;
        if (kind === 'claude') { if (u.cache_read_input_tokens !== undefined && u.input_tokens !== undefined) { cached = u.cache_read_input_tokens; prompt = u.input_tokens + cached; } }
        else if (kind === 'codex') { if (u.input_tokens !== undefined) { prompt = u.input_tokens; cached = u.input_tokens_details.cached_tokens; } }
        else if (u.prompt_tokens !== undefined) { prompt = u.prompt_tokens; cached = u.prompt_tokens_details.cached_tokens; }
    };
    if (!streamed) {
        const j = JSON.parse(text);
        if (kind === 'claude') answer = j.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
        else if (kind === 'codex') answer = j.output.filter((o) => o.type === 'message').flatMap((o) => o.content).map((c) => c.text || '').join('');
        else answer = j.choices[0].message.content || '';
        takeUsage(j.usage);
        return { answer, prompt, cached, complete };
    }
    for (const line of text.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const d = line.slice(6).trim();
        if (d === '[DONE]') { complete = true; continue; }
        let j;
        try { j = JSON.parse(d); } catch { continue; }
        if (kind === 'claude') {
            if (j.type === 'content_block_delta' && j.delta.type === 'text_delta') answer += j.delta.text;
            if (j.type === 'message_delta') takeUsage(j.usage);
            if (j.type === 'message_stop') complete = true;
        } else if (kind === 'codex') {
            if (j.type === 'response.output_text.delta') answer += j.delta;
            if (j.type === 'response.completed' || j.type === 'response.incomplete') { takeUsage(j.response.usage); complete = true; }
        } else {
            if (j.choices && j.choices[0] && j.choices[0].delta && j.choices[0].delta.content) answer += j.choices[0].delta.content;
            if (j.usage) takeUsage(j.usage);
        }
    }
    return { answer, prompt, cached, complete };
}

let LB = 0;
async function turn(s, k) {
    const userText = `Turn ${k}: ${words(s.i * 31 + k, 12)}?`;
    const rq = request(s, userText);
    const t0 = Date.now();
    const rec = { session: s.i, turn: k, kind: s.kind, stream: s.stream, t0: t0 - T0 };
    try {
        const r = await fetch(`http://127.0.0.1:${LB}${rq.path}`, {
            method: 'POST', headers: { 'content-type': 'application/json', ...rq.headers }, body: JSON.stringify(rq.body),
        });
        rec.status = r.status;
        rec.upstream = r.headers.get('x-upstream');
        rec.sessionEcho = r.headers.get('x-session-id');
        const text = await r.text();
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${text.slice(0, 200)}`);
        const a = parseAnswer(s.kind, text, s.stream);
        if (!a.complete) throw new Error('stream ended early');
        Object.assign(rec, { prompt: a.prompt, cached: a.cached, ok: true });
        s.history.push({ role: 'user', content: userText }, { role: 'assistant', content: a.answer });
    } catch (e) {
        rec.ok = false;
        rec.error = String(e.message || e);
    }
    rec.t1 = Date.now() - T0;
    return rec;
}

// ---- run --------------------------------------------------------------------------------
const summary = { mode: MODE, kill: KILL, stop: STOP, replicas: NREP, sessions: NSESS, turns: NTURNS, max_tokens: MAX_TOKENS };
try {
    const ports = [];
    for (let i = 0; i < NREP; i++) ports.push(await freePort());
    LB = await freePort();
    for (const [i, p] of ports.entries())
        start(BIN, ['serve', '-m', MODEL, '--host', '127.0.0.1', '--port', String(p), '--threads', '1', '--quiet', ...serveArgs], `replica${i}`);
    const ngx = path.join(work, 'nginx');
    await new Promise((res, rej) => {
        const p = spawn('bash', [path.join(ROOT, 'tests/deploy/nginx-conf.sh'), ngx, String(LB), MODE, ...ports.map(String)], { stdio: 'inherit' });
        p.on('exit', (c) => (c === 0 ? res() : rej(new Error('nginx-conf.sh failed'))));
    });
    start(NGINX, ['-p', ngx, '-c', path.join(ngx, 'nginx.conf'), '-g', 'daemon off;'], 'nginx');
    for (const p of ports) if (!(await waitHttp(`http://127.0.0.1:${p}/health`, 120000))) throw new Error(`replica on ${p} never became ready`);
    if (!(await waitHttp(`http://127.0.0.1:${LB}/nginx-health`, 10000))) throw new Error('nginx did not start');
    log(`replicas ready on ${ports.join(' ')}, nginx on ${LB} (${MODE})`);

    const sessions = Array.from({ length: NSESS }, (_, i) => makeSession(i));
    const all = [];
    // turn 1 for everyone, then a metrics snapshot (the hit rate counts the turns after it)
    const first = await Promise.all(sessions.map((s) => turn(s, 1)));
    all.push(...first);
    const before = await Promise.all(ports.map(scrape));
    const portOf = (up) => (up ? Number(up.split(',').pop().trim().split(':')[1]) : NaN);
    let killed = null;
    let killAt = Infinity;
    const runSession = async (s) => {
        for (let k = 2; k <= NTURNS; k++) {
            if (KILL && k === 3 && !killed) await killBarrier;
            let rec = await turn(s, k);
            all.push(rec);
            if (!rec.ok && killed) {
                // an agent retries a failed turn; the retry must succeed elsewhere
                rec.retried = true;
                rec = await turn(s, k);
                rec.retry = true;
                all.push(rec);
            }
            if (!rec.ok) return;
        }
    };
    let releaseKill;
    const killBarrier = new Promise((r) => (releaseKill = r));
    const running = sessions.map(runSession);
    if (KILL) {
        // wait until every session has finished turn 2, then kill the busiest replica
        // while the sessions' turn-3 requests start
        while (all.filter((r) => r.turn === 2).length < NSESS) await sleep(50);
        const count = new Map();
        for (const r of all) if (r.turn === 2 && r.ok) count.set(portOf(r.upstream), (count.get(portOf(r.upstream)) || 0) + 1);
        const victim = [...count.entries()].sort((a, b) => b[1] - a[1])[0][0];
        releaseKill();
        await sleep(300); // turn-3 requests are in flight now
        const idx = ports.indexOf(victim);
        killed = { port: victim, replica: idx, sessions: all.filter((r) => r.turn === 2 && portOf(r.upstream) === victim).map((r) => r.session) };
        killAt = Date.now() - T0;
        procs[idx].kill(STOP ? 'SIGTERM' : 'SIGKILL');
        log(`${STOP ? 'stopped (SIGTERM)' : 'killed'} replica ${idx} (port ${victim}), which served sessions ${killed.sessions}`);
    }
    await Promise.all(running);
    const after = await Promise.all(ports.map((p, i) => (killed && killed.replica === i ? null : scrape(p))));

    // ---- results ------------------------------------------------------------------------
    const bySession = sessions.map((s) => all.filter((r) => r.session === s.i && r.ok).sort((a, b) => a.turn - b.turn));
    let later = 0, laterHits = 0;
    for (const list of bySession)
        for (let j = 1; j < list.length; j++) {
            const prev = list[j - 1], cur = list[j];
            cur.hit = cur.cached >= prev.prompt;
            later++;
            if (cur.hit) laterHits++;
        }
    summary.turns_after_first = later;
    summary.turn_hit_rate = later ? laterHits / later : 0;
    summary.requests = all.length;
    summary.failed = all.filter((r) => !r.ok).map((r) => ({ session: r.session, turn: r.turn, upstream: r.upstream, error: r.error }));
    // token-level rate from the replicas' metrics (live replicas, turns after the first)
    let dh = 0, dq = 0;
    for (let i = 0; i < NREP; i++) if (after[i]) { dh += after[i].hits - before[i].hits; dq += after[i].queries - before[i].queries; }
    const later2 = all.filter((r) => r.ok && r.turn >= 2 && !(killed && portOf(r.upstream) === killed.port));
    const usageHits = later2.reduce((a, r) => a + r.cached, 0), usageQueries = later2.reduce((a, r) => a + r.prompt, 0);
    summary.metrics_token_hit_rate = dq ? dh / dq : 0;
    summary.metrics = { hits: dh, queries: dq, usage_hits: usageHits, usage_queries: usageQueries };
    summary.per_replica_sessions = ports.map((p) => [...new Set(all.filter((r) => r.ok && portOf(r.upstream) === p).map((r) => r.session))]);
    summary.wall_s = (Date.now() - T0) / 1000;

    // nginx derived each request's key from the header or the body (njs) as meant
    const keys = fs.readFileSync(path.join(ngx, 'logs/access.log'), 'utf8').split('\n')
        .map((l) => (/ session="([^"]*)"/.exec(l) || [])[1]).filter((k) => k !== undefined);
    for (const s of sessions) {
        const n = keys.filter((k) => k === s.id).length, sent = all.filter((r) => r.session === s.i).length;
        check(n >= sent, `nginx logged ${n} requests with session key ${s.id} (${s.kind}), the client sent ${sent}`);
    }
    summary.nginx_keys_ok = failures.length === 0;
    check(all.filter((r) => r.turn === 1).every((r) => r.ok), 'a first turn failed');
    check(bySession.every((l) => l.length === NTURNS), `a session did not complete ${NTURNS} turns: ${bySession.map((l) => l.length)}`);
    if (!killed) {
        check(summary.failed.length === 0, `failed requests: ${JSON.stringify(summary.failed)}`);
        check(dh === usageHits && dq === usageQueries, `metrics (${dh}/${dq}) disagree with usage (${usageHits}/${usageQueries})`);
        if (MODE === 'affinity') {
            // every turn of a session on one replica
            for (const l of bySession.filter((x) => x.length)) check(new Set(l.map((r) => portOf(r.upstream))).size === 1, `session ${l[0].session} moved between replicas: ${l.map((r) => r.upstream)}`);
        }
    } else {
        summary.killed = killed;
        // failures only for requests in flight on the killed replica when it died
        for (const r of all.filter((x) => !x.ok)) {
            const inflight = r.t0 <= killAt && r.t1 >= killAt;
            const onVictim = !!r.upstream && portOf(r.upstream) === killed.port; // the replica that answered it
            check(inflight && onVictim, `request of session ${r.session} turn ${r.turn} failed but was not in flight on the killed replica: ${r.error} (upstream ${r.upstream}, ${r.t0}-${r.t1} ms, kill at ${killAt})`);
        }
        // the victim's sessions continue on live replicas; the others never moved
        for (const l of bySession.filter((x) => x.length)) {
            const s = l[0].session;
            const afterKill = l.filter((r) => r.t0 > killAt);
            check(afterKill.every((r) => portOf(r.upstream) !== killed.port), `session ${s} was sent to the dead replica after the kill`);
            if (!killed.sessions.includes(s)) check(new Set(l.map((r) => portOf(r.upstream))).size === 1, `session ${s} (not on the killed replica) moved: ${l.map((r) => r.upstream)}`);
            else {
                // after the move: one miss (the new replica has not seen it), then hits again
                const misses = afterKill.filter((r) => r.hit === false).length;
                check(misses <= 1, `session ${s} missed ${misses} times after moving`);
            }
        }
        summary.requests_failed_by_kill = summary.failed.length;
        if (STOP) {
            // a drain loses nothing: what ran on it finished, new turns went elsewhere
            check(summary.failed.length === 0, `requests failed during a drain: ${JSON.stringify(summary.failed)}`);
            const ex = await procs[killed.replica].exited;
            check(ex.code === 0, `the drained replica exited with ${JSON.stringify(ex)}`);
            summary.drained_exit = ex;
        }
    }
    if (MODE === 'affinity' && !killed) check(summary.turn_hit_rate >= MIN_HIT, `turn hit rate ${summary.turn_hit_rate.toFixed(3)} < ${MIN_HIT}`);
    if (MODE === 'affinity' && killed && MIN_HIT > 0)
        // the sessions that never moved keep hitting; a moved one misses once (checked above)
        for (const l of bySession.filter((x) => x.length && !killed.sessions.includes(x[0].session)))
            check(l.slice(1).every((r) => r.hit), `session ${l[0].session} (not moved) missed: ${l.map((r) => r.hit)}`);
    // the replicas' metrics expose what the manifests read (checked by tools/deploy/check.mjs)
    const live = ports.findIndex((p, i) => after[i]);
    if (opt('--metrics-out')) fs.writeFileSync(opt('--metrics-out'), after[live].text);
    summary.requests_detail = all.map((r) => ({ s: r.session, t: r.turn, ok: r.ok, up: r.upstream, prompt: r.prompt, cached: r.cached, hit: r.hit, ms: r.t1 - r.t0, retry: !!r.retry, err: r.error }));
} catch (e) {
    failures.push(`error: ${e.stack || e}`);
} finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(15000)]);
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
summary.failures = failures;
const out = JSON.stringify(summary, null, 1);
if (JSON_OUT) fs.writeFileSync(JSON_OUT, out);
console.log(JSON.stringify({ ...summary, requests_detail: undefined }, null, 1));
if (failures.length) {
    for (const f of failures) console.error(`FAIL ${f}`);
    console.error(`logs: ${work}`);
    process.exit(1);
}
fs.rmSync(work, { recursive: true, force: true });
console.log(`fleet (${MODE}${STOP ? ', stop' : KILL ? ', kill' : ''}): ${summary.turns_after_first} turns after the first, hit rate ${(summary.turn_hit_rate * 100).toFixed(1)} %, passed`);

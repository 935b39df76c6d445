// The load side of `npm run bench -- longpoll`: many simulated rotation agents in one Node process,
// each with its own machine key, each holding a signed long-poll (`GET /v1/agent/rotations?wait=S`)
// on one shared keep-alive http.Agent (one socket per held poll, each agent from its own loopback
// source address 127.x.y.z, as if on its own host) and polling again as soon as a
// poll ends. A poll answered with jobs claims each one; a claimed rotate job is failed cleanly
// (liveVerified, untouched: the vault discards its pending value), a preflight job is reported as
// passed, so nothing is left unfinished. Started by longpoll-bench.ts, never on its own:
//
//   node dist/bench/longpoll-agents.js <url> <keys.json> <waitSeconds>
//
// keys.json: [{ name, keyId, privateKeyPem }]. Writes JSON lines to stdout:
//   {"t":"claim","id":rotationId,"agent":name,"kind":k,"project":p,"secret":s,"polledAt":ms,"at":ms}   a claim answered
//                                      (polledAt: its poll answered with the job; at: the claim answered)
//   {"t":"stats","inFlight":n,"polls":n,"errors":n,"lastError":...}           every second
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createPrivateKey } from 'node:crypto';
import { signRequest } from '../protocol/signing.js';
const [url, keysFile, waitText] = process.argv.slice(2);
if (!url || !keysFile) {
    process.stderr.write('usage: longpoll-agents <url> <keys.json> [waitSeconds]\n');
    process.exit(2);
}
const base = new URL(url);
const authority = base.host;
const waitSeconds = Number(waitText ?? '30');
const keys = JSON.parse(readFileSync(keysFile, 'utf8'))
    .map((k, i) => ({ name: k.name, keyId: k.keyId, privateKey: createPrivateKey(k.privateKeyPem), source: `127.${1 + Math.floor(i / 62500)}.${1 + (Math.floor(i / 250) % 250)}.${1 + (i % 250)}` }));
const pool = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: keys.length + 16 });
let inFlight = 0;
let polls = 0;
let errors = 0;
let lastError = null;
let stopping = false;
function send(key, method, target, body) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = signRequest({ method, authority, target, ...(payload ? { body: payload, contentType: 'application/json' } : {}) }, { keyId: key.keyId, privateKey: key.privateKey });
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: base.hostname, port: base.port, method, path: target, agent: pool, localAddress: key.source,
            headers: { ...headers, host: authority, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) },
            timeout: (waitSeconds + 30) * 1000,
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let parsed = text;
                try {
                    parsed = text ? JSON.parse(text) : undefined;
                }
                catch { /* not JSON */ }
                resolve({ status: res.statusCode ?? 0, body: parsed });
            });
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end(payload);
    });
}
const emit = (line) => { process.stdout.write(JSON.stringify(line) + '\n'); };
async function handle(key, job, polledAt) {
    const claim = await send(key, 'POST', `/v1/agent/rotations/${encodeURIComponent(job.id)}/claim`);
    const at = Date.now();
    if (claim.status !== 200) {
        errors += 1;
        lastError = `claim ${claim.status}: ${JSON.stringify(claim.body).slice(0, 300)}`;
        return;
    }
    emit({ t: 'claim', id: job.id, agent: key.name, kind: job.kind, project: job.project, secret: job.secret, polledAt, at });
    const fence = claim.body.fence;
    const step = job.kind === 'preflight'
        ? await send(key, 'POST', `/v1/agent/rotations/${encodeURIComponent(job.id)}/preflight`, { fence, ok: true, problems: [] })
        : await send(key, 'POST', `/v1/agent/rotations/${encodeURIComponent(job.id)}/fail`, { fence, code: 'SK_ERR_PROVIDER_FAILED', message: 'benchmark agent: claimed, not applied', liveVerified: true, untouched: true });
    if (step.status !== 200) {
        errors += 1;
        lastError = `${job.kind} report ${step.status}: ${JSON.stringify(step.body).slice(0, 300)}`;
    }
}
async function agentLoop(key) {
    while (!stopping) {
        inFlight += 1;
        polls += 1;
        try {
            const res = await send(key, 'GET', `/v1/agent/rotations?wait=${waitSeconds}`);
            const polledAt = Date.now();
            inFlight -= 1;
            if (res.status === 200) {
                for (const job of res.body.jobs)
                    await handle(key, job, polledAt);
            }
            else if (res.status !== 204) {
                errors += 1;
                lastError = `poll ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`;
                await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500)); // jittered: no herd
            }
        }
        catch (err) {
            inFlight -= 1;
            errors += 1;
            lastError = err instanceof Error ? err.message : String(err);
            await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
        }
    }
}
setInterval(() => emit({ t: 'stats', inFlight, polls, errors, lastError }), 1000).unref();
process.on('SIGTERM', () => { stopping = true; process.exit(0); });
// Ramp up in batches so the vault is not handed thousands of signatures in one tick.
const BATCH = 100;
for (let i = 0; i < keys.length; i += BATCH) {
    for (const key of keys.slice(i, i + BATCH))
        void agentLoop(key);
    await new Promise((r) => setTimeout(r, 100));
}
//# sourceMappingURL=longpoll-agents.js.map
/**
 * The closed-loop load generator, run as its own process (the bench pins it to another CPU than
 * the server): N keep-alive connections, each with one request in flight; EVERY request signed
 * with protocol/signing.ts `signRequest` by the machine's key (one cached KeyObject) and a fresh
 * nonce. Runs `--warmup` seconds unrecorded, then records each answer's latency for `--seconds`.
 *
 *   node dist/bench/load/load-generator.js --url http://127.0.0.1:8200 --key-file m.key \
 *     --path /v1/projects/p/secrets/s [--path …] [--method GET|POST] [--body JSON] \
 *     [--connections 10] [--seconds 10] [--warmup 2] [--check-batch]
 *
 * Prints one JSON line (see LoadResult in run-load.ts). Latency is send → last byte of the answer
 * (signing excluded); paths given several times are used in turn.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { flag, quantile, round } from '../stats.js';
const args = process.argv.slice(2);
const url = new URL(flag(args, 'url', ''));
const key = readPrivateKeyFile(flag(args, 'key-file', ''));
const signer = { keyId: key.keyId, privateKey: key.privateKey };
const paths = args.flatMap((a, i) => (a === '--path' && args[i + 1] !== undefined ? [args[i + 1]] : []));
if (paths.length === 0)
    throw new Error('give at least one --path');
const method = flag(args, 'method', 'GET');
const bodyText = flag(args, 'body', '');
const body = bodyText === '' ? undefined : Buffer.from(bodyText);
const connections = Number(flag(args, 'connections', '10'));
const seconds = Number(flag(args, 'seconds', '10'));
const warmup = Number(flag(args, 'warmup', '2'));
const checkBatch = args.includes('--check-batch');
const statuses = {};
const latencies = [];
let firstError;
function send(agent, path) {
    const headers = signRequest({ method, authority: url.host, target: path, ...(body ? { body, contentType: 'application/json' } : {}) }, signer);
    if (body)
        headers['content-length'] = String(body.length);
    return new Promise((resolve) => {
        const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
            const chunks = [];
            res.on('data', (d) => chunks.push(d));
            res.on('end', () => resolve({ status: String(res.statusCode ?? 0), text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', (err) => resolve({ status: `error:${err.code ?? 'response'}`, text: '' }));
        });
        req.on('error', (err) => resolve({ status: `error:${err.code ?? 'request'}`, text: '' }));
        req.end(body);
    });
}
/**
 * "200" for a batch answer whose every item is 200; otherwise the first failing item's status,
 * with only that item's error as detail (the other items carry values, never quoted).
 */
function batchStatus(text) {
    try {
        const parsed = JSON.parse(text);
        if (!parsed.results)
            return { status: 'batch:no-results', detail: '' };
        const bad = parsed.results.find((r) => r.status !== 200);
        return bad ? { status: `item:${String(bad.status)}`, detail: bad.error?.code ?? '' } : { status: '200', detail: '' };
    }
    catch {
        return { status: 'batch:unparsable', detail: '' };
    }
}
const start = performance.now();
const measureStart = start + warmup * 1000;
const measureEnd = measureStart + seconds * 1000;
let cpuAtStart;
setTimeout(() => { cpuAtStart = process.cpuUsage(); }, warmup * 1000);
async function connection(offset) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let i = offset;
    try {
        for (;;) {
            const path = paths[i % paths.length];
            i += 1;
            const t0 = performance.now();
            if (t0 >= measureEnd)
                return;
            const r = await send(agent, path);
            const t1 = performance.now();
            if (t1 < measureStart || t1 > measureEnd)
                continue;
            // A 200 answer carries secret values: only error answers are ever quoted.
            const { status, detail } = r.status === '200' && checkBatch ? batchStatus(r.text) : { status: r.status, detail: r.status === '200' ? '' : r.text.slice(0, 200) };
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (status === '200')
                latencies.push(t1 - t0);
            else if (firstError === undefined)
                firstError = `${status} ${detail}`;
        }
    }
    finally {
        agent.destroy();
    }
}
await Promise.all(Array.from({ length: connections }, (_, c) => connection(c)));
const cpu = process.cpuUsage(cpuAtStart);
const total = Object.values(statuses).reduce((a, b) => a + b, 0);
const errors = total - (statuses['200'] ?? 0);
process.stdout.write(`${JSON.stringify({
    connections, seconds, requests: total, rps: round(total / seconds),
    ok_rps: round((statuses['200'] ?? 0) / seconds),
    p50_ms: round(quantile(latencies, 0.5), 2), p99_ms: round(quantile(latencies, 0.99), 2),
    statuses, errors, ...(firstError !== undefined ? { first_error: firstError } : {}),
    generator_cpu: round((cpu.user + cpu.system) / 1e6 / seconds, 2),
})}\n`);
//# sourceMappingURL=load-generator.js.map
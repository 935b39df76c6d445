// `sikkerkey-vault serve --workers 2` as real processes: workers die with a SIGKILLed primary (no
// orphan holds the port or the store), a dead worker is restarted and SIGTERM drains them all, a
// long-poll held in one worker wakes on a write made through the other (SQLite: IPC via the
// primary; PostgreSQL: LISTEN/NOTIFY), the per-address failure budget is spent for both workers
// by failures spread over them, and a captured signed request replayed on another worker fails
// (sent to both at once, and one after the other; rounds are counted only when the request log
// shows the two copies were answered by different workers).
// Every request opens its own connection: cluster's round-robin hands connections to the workers
// in turn, and the request log's pid says which worker answered (every request, at debug level).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import tls from 'node:tls';
import { join } from 'node:path';
import { signRequest } from '../../protocol/signing.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { jsonOf, pidGone as gone, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import { tempPgDatabase } from '../support/stores.js';
import { sleep, waitFor } from '../support/wait.js';
import { makeTestCa } from '../support/test-ca.js';
/** One request on its own connection. */
function send(port, target, headers = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: target, method: 'GET', headers, agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { body += d; });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: Date.now() }));
        });
        req.on('error', reject);
        req.end();
    });
}
function signedGet(v, key, target) {
    return signRequest({ method: 'GET', authority: `127.0.0.1:${v.port}`, target }, key);
}
/** The worker pids the primary announced with "vault listening". */
function workerPids(v) {
    const m = /"pids":\[([\d,]+)\][^\n]*"msg":"vault listening"/.exec(v.proc.output());
    assert.ok(m, `no "vault listening" line with pids in: ${v.proc.output().slice(-2000)}`);
    return m[1].split(',').map(Number);
}
/** Waits (the log comes through a pipe, after the answer) until two pids answered `status` after `from`. */
async function bothAnswered(v, from, status) {
    await waitFor(() => answeredBy(v, from, status), { what: `both workers to log a ${status}`, timeoutMs: 5000, intervalMs: 50, until: (pids) => pids.size === 2, show: (pids) => [...pids].join(', ') });
}
/** Which pids answered with `status` in the request log written after `from` (a 200 is logged only with `--log-level debug`). */
function answeredBy(v, from, status) {
    const pids = new Set();
    for (const line of v.proc.output().slice(from).split('\n')) {
        if (!line.includes('"msg":"request completed"'))
            continue;
        // One line per request (app.ts onResponse): `status`; refusals at info, 200s only at debug.
        const entry = JSON.parse(line);
        if (entry.status === status)
            pids.add(entry.pid);
    }
    return pids;
}
/** Project p, secret s (version 1), and machine `name` granted s; returns the machine's key. */
async function machineWithGrant(v, name) {
    const keyFile = join(v.dir, `${name}.key`);
    const { publicKey } = jsonOf(await runBin('sikkerkey', ['keygen', '--out', keyFile, '--json']));
    jsonOf(await v.sk(['machine', 'add', name, '--public-key', publicKey, '--json']));
    jsonOf(await v.sk(['grant', 'add', name, '--project', 'p', '--secret', 's', '--json']));
    const k = readPrivateKeyFile(keyFile);
    return { keyId: k.keyId, privateKey: k.privateKey };
}
async function projectAndSecret(v) {
    jsonOf(await v.sk(['project', 'create', 'p', '--json']));
    jsonOf(await v.sk(['secret', 'set', 'p', 's', '--fields-json', '{"password":"one"}', '--json']));
}
test('a SIGKILLed primary leaves no worker behind: they exit and a new serve binds the port and opens the store', async () => {
    const v = await startVaultProcess({ args: ['--workers', '2'] });
    try {
        const pids = workerPids(v);
        assert.equal(pids.length, 2);
        assert.ok(pids.every((p) => !gone(p)));
        await v.proc.stop('SIGKILL');
        await waitFor(() => pids.every(gone), { what: `workers ${pids.join(', ')} to exit`, timeoutMs: 5000, intervalMs: 50 });
        await v.restart({ args: ['--workers', '1'] });
        assert.equal((await v.get('/readyz')).status, 200);
        assert.equal((await v.sk(['project', 'list', '--json'])).code, 0);
    }
    finally {
        await v.close();
    }
});
test('a worker that dies is restarted (logged) while the other serves; SIGTERM drains both and the primary exits 0', async () => {
    const v = await startVaultProcess({ args: ['--workers', '2'] });
    try {
        const [first] = workerPids(v);
        process.kill(first, 'SIGKILL');
        await v.proc.waitFor(/"msg":"worker exited unexpectedly; restarting it"/, 10_000);
        for (let i = 0; i < 4; i++)
            assert.equal((await send(v.port, '/healthz')).status, 200);
        await v.proc.waitFor(/"msg":"worker restarted and listening"/, 30_000);
        const code = await v.proc.stop('SIGTERM');
        assert.equal(code, 0, v.proc.output().slice(-2000));
        const out = v.proc.output();
        assert.equal(out.match(/"msg":"vault listening"/g)?.length, 1, 'the URL is announced once');
        assert.equal(out.match(/"worker":\d,[^\n]*"clean":true,"msg":"vault stopped"/g)?.length, 2, 'both workers drained cleanly');
        assert.match(out, /"workers":2,"msg":"shutting down: the workers drain"/);
    }
    finally {
        await v.close();
    }
});
for (const dialect of ['sqlite', 'postgres']) {
    test(`${dialect}: long-polls held in both workers wake on a write made through one of them`, async () => {
        const pg = dialect === 'postgres' ? await tempPgDatabase() : undefined;
        const v = await startVaultProcess({ args: ['--workers', '2', '--log-level', 'debug'], ...(pg ? { databaseUrl: pg.location.databaseUrl } : {}) });
        try {
            await projectAndSecret(v);
            const key = await machineWithGrant(v, 'm');
            const target = '/v1/projects/p/secrets/s?waitForVersionAfter=1&wait=20';
            const from = v.proc.output().length;
            let settled = 0;
            const polls = Array.from({ length: 6 }, () => send(v.port, target, signedGet(v, key, target)).finally(() => { settled += 1; }));
            await sleep(1500);
            assert.equal(settled, 0, 'the polls are held');
            jsonOf(await v.sk(['secret', 'set', 'p', 's', '--fields-json', '{"password":"two"}', '--json']));
            const wrote = Date.now();
            const answers = await Promise.all(polls);
            for (const a of answers)
                assert.equal(a.status, 200, a.body);
            for (const a of answers)
                assert.equal(JSON.parse(a.body).version, 2);
            const late = Math.max(...answers.map((a) => a.at - wrote));
            console.log(`${dialect}: 6 long-polls over 2 workers answered at most ${late} ms after the writing CLI exited`);
            assert.ok(late < 3000, `${late} ms`);
            await bothAnswered(v, from, 200);
        }
        finally {
            await v.close();
            await pg?.remove();
        }
    });
}
test('failures spread over two workers spend the address\'s budget in both', async () => {
    const v = await startVaultProcess({ args: ['--workers', '2'] });
    try {
        await projectAndSecret(v);
        const key = await machineWithGrant(v, 'attacker');
        const target = '/v1/projects/p/secrets/s';
        const from = v.proc.output().length;
        for (let i = 0; i < 20; i++) {
            const headers = signedGet(v, key, target);
            const sig = headers['signature'];
            headers['signature'] = sig.slice(0, 12) + (sig[12] === 'A' ? 'B' : 'A') + sig.slice(13);
            const a = await send(v.port, target, headers);
            assert.equal(a.status, 401, a.body);
        }
        await bothAnswered(v, from, 401);
        await sleep(200);
        // Unsigned: refused before any signature work once the budget is spent, by either worker.
        for (let i = 0; i < 6; i++) {
            const a = await send(v.port, target);
            assert.equal(a.status, 429, `request ${i}: ${a.body}`);
            assert.match(a.body, /SK_ERR_RATE_LIMITED/);
        }
        await bothAnswered(v, from, 429);
    }
    finally {
        await v.close();
    }
});
test('a captured signed request sent twice at once, to both workers: exactly one 200', async () => {
    const v = await startVaultProcess({ args: ['--workers', '2', '--log-level', 'debug'] });
    try {
        await projectAndSecret(v);
        const key = await machineWithGrant(v, 'm');
        const target = '/v1/projects/p/secrets/s';
        const from = v.proc.output().length;
        for (let round = 0; round < 3; round++) {
            const headers = signedGet(v, key, target);
            const answers = await Promise.all([send(v.port, target, headers), send(v.port, target, headers)]);
            assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401], answers.map((a) => a.body).join(' | '));
            assert.match(answers.find((a) => a.status === 401)?.body ?? '', /SK_ERR_SIGNATURE_REPLAYED/);
        }
        await waitFor(() => new Set([...answeredBy(v, from, 200), ...answeredBy(v, from, 401)]), {
            what: 'both workers to have answered', timeoutMs: 5000, intervalMs: 50, until: (p) => p.size === 2, show: (p) => [...p].join(', '),
        });
    }
    finally {
        await v.close();
    }
});
test('SIGHUP to the primary reloads the TLS certificate in every worker', async () => {
    const ca = makeTestCa();
    const first = ca.issue();
    const certFile = join(ca.dir, 'live.crt');
    const keyFile = join(ca.dir, 'live.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const v = await startVaultProcess({ tls: { cert: certFile, key: keyFile, ca: ca.caFile }, args: ['--workers', '2'] });
    try {
        const pids = workerPids(v);
        const second = ca.issue();
        copyFileSync(second.certFile, certFile);
        copyFileSync(second.keyFile, keyFile);
        const from = v.proc.output().length;
        v.proc.proc.kill('SIGHUP');
        const reloadedBy = () => new Set(v.proc.output().slice(from).split('\n')
            .filter((l) => l.includes('"msg":"TLS certificate reloaded"')).map((l) => JSON.parse(l).pid));
        await waitFor(reloadedBy, { what: 'both workers to reload', timeoutMs: 15_000, intervalMs: 50, until: (p) => p.size === 2, show: (p) => [...p].join(', ') });
        assert.deepEqual([...reloadedBy()].sort(), [...pids].sort());
        // New connections, whichever worker takes them, present the new certificate.
        for (let i = 0; i < 4; i++) {
            const fingerprint = await new Promise((resolve, reject) => {
                const s = tls.connect({ host: '127.0.0.1', port: v.port, ca: [readFileSync(ca.caFile, 'utf8')], servername: 'localhost' }, () => {
                    const fp = s.getPeerCertificate().fingerprint256;
                    s.end();
                    resolve(fp);
                });
                s.on('error', reject);
            });
            assert.equal(fingerprint, second.fingerprint256, `connection ${i}`);
        }
        assert.equal(v.proc.proc.exitCode, null, 'SIGHUP does not end the primary');
    }
    finally {
        await v.close();
        ca.cleanup();
    }
});
/** Waits until `n` requests were logged after `from` (debug level logs every request); their pids. */
async function loggedPids(v, from, n) {
    const pids = () => v.proc.output().slice(from).split('\n').filter((l) => l.includes('"msg":"request completed"')).map((l) => JSON.parse(l).pid);
    return waitFor(pids, { what: `${n} logged requests`, timeoutMs: 5000, intervalMs: 20, until: (p) => p.length >= n, show: (p) => p.join(', ') });
}
for (const dialect of ['sqlite', 'postgres']) {
    test(`--workers 2 (${dialect}): a captured signed request replayed on the other worker, at once and one after the other: exactly one 200`, async () => {
        const pg = dialect === 'postgres' ? await tempPgDatabase() : undefined;
        const v = await startVaultProcess({ args: ['--workers', '2', '--log-level', 'debug'], ...(pg ? { databaseUrl: pg.location.databaseUrl } : {}) });
        try {
            await projectAndSecret(v);
            const key = await machineWithGrant(v, 'm');
            const target = '/v1/projects/p/secrets/s';
            const WANT = 3;
            let concurrentCross = 0;
            let sequentialCross = 0;
            // Each round a fresh signed request and two connections; only rounds whose two connections
            // went to different workers (the request log's pids) count toward WANT, but every round must
            // give exactly one 200.
            for (let round = 0; round < 20 && (concurrentCross < WANT || sequentialCross < WANT); round++) {
                if (concurrentCross < WANT) {
                    const headers = signedGet(v, key, target);
                    const from = v.proc.output().length;
                    const answers = await Promise.all([send(v.port, target, headers), send(v.port, target, headers)]);
                    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401], answers.map((a) => a.body).join(' | '));
                    assert.match(answers.find((a) => a.status === 401)?.body ?? '', /SK_ERR_SIGNATURE_REPLAYED/);
                    const pids = await loggedPids(v, from, 2);
                    if (new Set(pids).size === 2)
                        concurrentCross += 1;
                }
                if (sequentialCross < WANT) {
                    const headers = signedGet(v, key, target);
                    const from = v.proc.output().length;
                    const first = await send(v.port, target, headers);
                    assert.equal(first.status, 200, first.body);
                    const [firstPid] = await loggedPids(v, from, 1);
                    const from2 = v.proc.output().length;
                    const replay = await send(v.port, target, headers);
                    assert.equal(replay.status, 401, replay.body);
                    assert.match(replay.body, /SK_ERR_SIGNATURE_REPLAYED/);
                    const [replayPid] = await loggedPids(v, from2, 1);
                    if (firstPid !== replayPid)
                        sequentialCross += 1;
                }
            }
            console.log(`${dialect}: replay across workers: ${concurrentCross} concurrent and ${sequentialCross} sequential replays landed on the other worker`);
            assert.ok(concurrentCross >= WANT, `only ${concurrentCross} concurrent pairs went to two workers`);
            assert.ok(sequentialCross >= WANT, `only ${sequentialCross} sequential replays went to the other worker`);
        }
        finally {
            await v.close();
            await pg?.remove();
        }
    });
}
//# sourceMappingURL=ops-workers.test.js.map
/**
 * The canary race's body (DESIGN §5), shared by its in-process run (canary-race.test.ts) and its
 * run against a real `sikkerkey-vault serve --workers 2` (canary-race-workers.test.ts): 200 reads
 * of real secrets from four machines over real HTTP, with one canary read launched in the middle.
 * No read that starts after the canary's answer arrived (so after its transaction committed) may
 * be served — checked from the client's clock and, independently, from the audit chain's order on
 * the server.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { generateIdentityKey } from '../../protocol/keys.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { VaultClient } from '../../protocol/client.js';
export const READS = 200;
export const MACHINES = 4;
const SECRETS = 10;
const IN_FLIGHT = 16;
/** The canary read is launched when this many real reads have been started. */
const CANARY_AFTER = 100;
export async function runCanaryRace(v) {
    assert.equal((await v.call('POST', '/v1/projects', { name: 'race' })).status, 201);
    for (let k = 0; k < SECRETS; k++)
        assert.equal((await v.call('PUT', `/v1/projects/race/secrets/real-${k}`, { value: `real-value-${k}` })).status, 200);
    assert.equal((await v.call('POST', '/v1/projects/race/canaries', { name: 'real-x', value: 'decoy-value-x' })).status, 201);
    const keys = [];
    for (let m = 0; m < MACHINES; m++) {
        keys.push(await v.addMachine(`racer-${m}`));
        assert.equal((await v.call('POST', '/v1/grants', { machine: `racer-${m}`, project: 'race' })).status, 201);
    }
    const clients = keys.map((k) => v.client(k));
    // The canary is read by one of the reading machines (a compromised workload), on its own connection.
    const canaryClient = v.client(keys[1]);
    // Warm every connection up so the race measures reads, not TCP handshakes (not counted).
    for (const c of clients)
        assert.equal((await c.request('GET', '/v1/projects/race/secrets/real-0')).status, 200);
    const outcomes = [];
    let canary;
    let canaryDone;
    let next = 0;
    const worker = async () => {
        for (;;) {
            const i = next++;
            if (i >= READS)
                return;
            if (i === CANARY_AFTER) {
                const start = performance.now();
                canaryDone = canaryClient.request('GET', '/v1/projects/race/secrets/real-x').then((r) => {
                    canary = { start, arrived: performance.now(), status: r.status, value: r.body.value };
                });
            }
            const machine = i % MACHINES;
            const start = performance.now();
            try {
                const r = await clients[machine].request('GET', `/v1/projects/race/secrets/real-${i % SECRETS}`);
                outcomes.push({ i, machine, start, end: performance.now(), status: r.status, value: r.body.value });
            }
            catch (err) {
                if (!isSikkerKeyError(err))
                    throw err;
                outcomes.push({ i, machine, start, end: performance.now(), status: Number(err.details?.['httpStatus'] ?? 0), code: err.code });
            }
        }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await canaryDone;
    assert.ok(canary, 'the canary read was launched');
    // The canary answered like a real secret, with its decoy, and only after its commit.
    assert.equal(canary.status, 200);
    assert.equal(canary.value, 'decoy-value-x');
    assert.equal(outcomes.length, READS);
    const after = outcomes.filter((o) => o.start > canary.arrived);
    const servedAll = outcomes.filter((o) => o.status === 200);
    const servedAfter = servedAll.filter((o) => o.start > canary.arrived);
    // The race is real: reads overlapped the canary's own request, and some started after it answered.
    const overlapping = outcomes.filter((o) => o.start < canary.arrived && o.end > canary.start);
    assert.ok(overlapping.length > 0, 'some reads were in flight while the canary read was');
    assert.ok(after.length >= 20, `only ${after.length} reads started after the canary's answer: the test would prove little`);
    assert.ok(servedAll.length >= CANARY_AFTER - IN_FLIGHT, `only ${servedAll.length} reads served before the lock`);
    for (const o of servedAll)
        assert.equal(o.value, `real-value-${o.i % SECRETS}`, `read ${o.i} got its own value`);
    for (const o of outcomes) {
        if (o.end < canary.start)
            assert.equal(o.status, 200, `read ${o.i} finished before the canary was sent`);
        assert.ok([200, 403, 423].includes(o.status), `read ${o.i}: HTTP ${o.status} ${o.code ?? ''}`);
    }
    for (const o of after) {
        // The tripping machine is disabled too: its later reads may be refused at authentication.
        const expected = o.machine === 1 ? ['SK_ERR_PROJECT_LOCKED', 'SK_ERR_MACHINE_DISABLED'] : ['SK_ERR_PROJECT_LOCKED'];
        assert.ok(expected.includes(o.code ?? ''), `read ${o.i} started after the lock and got HTTP ${o.status} ${o.code ?? ''}`);
    }
    assert.equal(servedAfter.length, 0);
    // The server's own order: every real read served in the project precedes the trip in the chain.
    const [trip, ...moreTrips] = await v.auditEvents('canary.tripped');
    assert.ok(trip);
    assert.equal(moreTrips.length, 0);
    const reads = (await v.auditEvents('secret.read')).filter((e) => e.outcome === 'success' && e.target.startsWith('secret:race/real-') && e.target !== 'secret:race/real-x');
    assert.equal(reads.length, servedAll.length + MACHINES, 'one success event per served read (plus the warm-ups)');
    for (const e of reads)
        assert.ok(e.seq < trip.seq, `read event ${e.seq} (${e.target}) comes after the trip (${trip.seq})`);
    assert.equal((await v.call('GET', '/v1/audit/verify')).body.ok, true);
    return { reads: outcomes.length, servedBeforeLock: servedAll.length, servedAfterLock: servedAfter.length };
}
/** {@link RaceVault} for a vault reached only over HTTP (a real `serve` process), as its operator. */
export function vaultOverHttp(url, operatorKey) {
    const clients = [];
    const make = (key) => {
        const c = new VaultClient({ url, key: { keyId: key.keyId, privateKey: key.privateKey }, timeoutMs: 60_000 });
        clients.push(c);
        return c;
    };
    const operator = make(operatorKey);
    const call = async (method, target, body) => {
        try {
            const r = await operator.request(method, target, body);
            return { status: r.status, body: r.body };
        }
        catch (err) {
            if (!isSikkerKeyError(err))
                throw err;
            return { status: Number(err.details?.['httpStatus'] ?? 0), body: { error: { code: err.code, message: err.message } } };
        }
    };
    return {
        call,
        addMachine: async (name) => {
            const key = generateIdentityKey();
            const res = await call('POST', '/v1/machines', { name, publicKey: Buffer.from(key.publicKey).toString('base64') });
            assert.equal(res.status, 201, JSON.stringify(res.body));
            return key;
        },
        client: make,
        auditEvents: async (...actions) => {
            const res = await call('GET', '/v1/audit?limit=10000');
            assert.equal(res.status, 200, JSON.stringify(res.body));
            const all = res.body.events;
            return actions.length === 0 ? all : all.filter((e) => actions.includes(e.action));
        },
        close: () => { for (const c of clients)
            c.close(); },
    };
}
//# sourceMappingURL=canary-race.js.map
// The canary race (DESIGN §5): 200 reads of real secrets from four machines over real HTTP, with
// one canary read launched in the middle. No read that starts after the canary's answer arrived
// (so after its transaction committed) may be served — checked from the client's clock and,
// independently, from the audit chain's order on the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { auditEvents, serveOverHttp } from '../support/canary-fixtures.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { IdentityKey } from '../../protocol/keys.js';

const READS = 200;
const MACHINES = 4;
const SECRETS = 10;
const IN_FLIGHT = 16;
/** The canary read is launched when this many real reads have been started. */
const CANARY_AFTER = 100;

interface Outcome { i: number; machine: number; start: number; end: number; status: number; code?: string; value?: string }

forEachStore('canary race', (s) => {
  test('200 concurrent reads and one canary read: no read that starts after the canary committed is served', async () => {
    const v = await startTestVault(await s.open());
    const served = await serveOverHttp(v);
    try {
      const op = v.operator;
      assert.equal((await v.call(op, 'POST', '/v1/projects', { name: 'race' })).status, 201);
      for (let k = 0; k < SECRETS; k++) assert.equal((await v.call(op, 'PUT', `/v1/projects/race/secrets/real-${k}`, { value: `real-value-${k}` })).status, 200);
      assert.equal((await v.call(op, 'POST', '/v1/projects/race/canaries', { name: 'real-x', value: 'decoy-value-x' })).status, 201);
      const keys: IdentityKey[] = [];
      for (let m = 0; m < MACHINES; m++) {
        keys.push(await v.addMachine(`racer-${m}`));
        assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: `racer-${m}`, project: 'race' })).status, 201);
      }
      const clients = keys.map((k) => served.client(k));
      // The canary is read by one of the reading machines (a compromised workload), on its own connection.
      const canaryClient = served.client(keys[1] as IdentityKey);
      // Warm every connection up so the race measures reads, not TCP handshakes (not counted).
      for (const c of clients) assert.equal((await c.request('GET', '/v1/projects/race/secrets/real-0')).status, 200);

      const outcomes: Outcome[] = [];
      let canary: { start: number; arrived: number; status: number; value?: string } | undefined;
      let canaryDone: Promise<void> | undefined;
      let next = 0;
      const worker = async (): Promise<void> => {
        for (;;) {
          const i = next++;
          if (i >= READS) return;
          if (i === CANARY_AFTER) {
            const start = performance.now();
            canaryDone = canaryClient.request<{ value: string }>('GET', '/v1/projects/race/secrets/real-x').then((r) => {
              canary = { start, arrived: performance.now(), status: r.status, value: r.body.value };
            });
          }
          const machine = i % MACHINES;
          const start = performance.now();
          try {
            const r = await (clients[machine] as (typeof clients)[number]).request<{ value: string }>('GET', `/v1/projects/race/secrets/real-${i % SECRETS}`);
            outcomes.push({ i, machine, start, end: performance.now(), status: r.status, value: r.body.value });
          } catch (err) {
            if (!isSikkerKeyError(err)) throw err;
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
      const after = outcomes.filter((o) => o.start > (canary as { arrived: number }).arrived);
      const servedAll = outcomes.filter((o) => o.status === 200);
      const servedAfter = servedAll.filter((o) => o.start > (canary as { arrived: number }).arrived);
      // The race is real: reads overlapped the canary's own request, and some started after it answered.
      const overlapping = outcomes.filter((o) => o.start < (canary as { arrived: number }).arrived && o.end > (canary as { start: number }).start);
      assert.ok(overlapping.length > 0, 'some reads were in flight while the canary read was');
      assert.ok(after.length >= 20, `only ${after.length} reads started after the canary's answer: the test would prove little`);
      assert.ok(servedAll.length >= CANARY_AFTER - IN_FLIGHT, `only ${servedAll.length} reads served before the lock`);

      for (const o of servedAll) assert.equal(o.value, `real-value-${o.i % SECRETS}`, `read ${o.i} got its own value`);
      for (const o of outcomes) {
        if (o.end < canary.start) assert.equal(o.status, 200, `read ${o.i} finished before the canary was sent`);
        assert.ok([200, 403, 423].includes(o.status), `read ${o.i}: HTTP ${o.status} ${o.code ?? ''}`);
      }
      for (const o of after) {
        // The tripping machine is disabled too: its later reads may be refused at authentication.
        const expected = o.machine === 1 ? ['SK_ERR_PROJECT_LOCKED', 'SK_ERR_MACHINE_DISABLED'] : ['SK_ERR_PROJECT_LOCKED'];
        assert.ok(expected.includes(o.code ?? ''), `read ${o.i} started after the lock and got HTTP ${o.status} ${o.code ?? ''}`);
      }
      assert.equal(servedAfter.length, 0);

      // The server's own order: every real read served in the project precedes the trip in the chain.
      const [trip, ...moreTrips] = await auditEvents(v, 'canary.tripped');
      assert.ok(trip);
      assert.equal(moreTrips.length, 0);
      const reads = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'success' && e.target.startsWith('secret:race/real-') && e.target !== 'secret:race/real-x');
      assert.equal(reads.length, servedAll.length + MACHINES, 'one success event per served read (plus the warm-ups)');
      for (const e of reads) assert.ok(e.seq < trip.seq, `read event ${e.seq} (${e.target}) comes after the trip (${trip.seq})`);
      assert.equal(((await v.call(op, 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);

      console.log(`canary race: ${outcomes.length} reads, ${servedAll.length} served before lock, ${servedAfter.length} served after lock`);
    } finally {
      served.close();
      await v.close();
    }
  });
});

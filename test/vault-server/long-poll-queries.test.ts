// Held long-polls cost no store work: agent rotation polls and secret watches wait in the
// process's wake-up hub (vault-server/http/long-poll.ts) and re-check only when an event names
// them. The store is observed through a counting Kysely plugin on the test store (every query the
// vault runs, transactions included); with nothing happening, the count over a window does not
// grow with the number of held polls — only the hub's one safety-net sweep per interval runs.
// An event for one agent wakes that agent's poll only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { SWEEP_MS } from '../../vault-server/modules/rotations/work-waiters.js';
import { watchesHeld } from '../../vault-server/modules/secrets/secret-watch.js';
import { waitFor } from '../support/wait.js';

/** Counts every query compiled through the store's Kysely instance. */
class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.count += 1;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const N = 50;
/** Longer than one sweep interval, so the window holds at least one sweep whatever its phase. */
const WINDOW_MS = SWEEP_MS + 1500;

forEachStore('long-polls cost no store work while held', (s) => {
  let v: TestVault;
  const counter = new QueryCounter();
  const agents: IdentityKey[] = [];
  const db = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-aaaa', database: 'app' };

  before(async () => {
    const store = await s.open();
    store.db = store.db.withPlugin(counter);
    v = await startTestVault(store);
    const op = v.operator;
    assert.equal((await v.call(op, 'POST', '/v1/projects', { name: 'p' })).status, 201);
    assert.equal((await v.call(op, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: 'admin-password' } })).status, 200);
    assert.equal((await v.call(op, 'PUT', '/v1/projects/p/secrets/watched', { value: 'v1' })).status, 200);
    assert.equal((await v.call(op, 'PUT', '/v1/projects/p/secrets/rotated', { fields: db })).status, 200);
    for (let i = 0; i < N; i++) {
      agents.push(await v.addMachine(`agent-${i}`, [`own-${i}`]));
      assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: `agent-${i}`, project: 'p', secret: 'watched' })).status, 201);
    }
    assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: 'agent-7', project: 'p', secret: 'admin' })).status, 201);
  });
  after(async () => v.close());

  const held = async (): Promise<number> => (await v.metrics.longPolls.get()).values[0]?.value ?? 0;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  /** Store queries over WINDOW_MS. */
  async function queriesOverWindow(): Promise<number> {
    const start = counter.count;
    await sleep(WINDOW_MS);
    return counter.count - start;
  }

  test('the counter sees the vault\'s queries: one poll that answers at once costs a few', async () => {
    const start = counter.count;
    assert.equal((await v.call(agents[1] as IdentityKey, 'GET', '/v1/agent/rotations?wait=0')).status, 204);
    assert.ok(counter.count - start >= 2, `a wait=0 poll: ${counter.count - start} queries`);
  });

  test(`1 held poll, ${N} held polls and ${N} more held watches cost the same store work (the sweeps only); an event wakes only whom it names`, { timeout: 120_000 }, async (t) => {
    // Thousands of held polls are the design: none may make the vault warn of a listener leak.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`); };
    process.on('warning', onWarning);
    t.after(() => { process.off('warning', onWarning); });
    const polls: Array<Promise<InjectedResponse>> = [];
    const poll = (i: number): void => { polls.push(v.call(agents[i] as IdentityKey, 'GET', '/v1/agent/rotations?wait=60')); };
    const heldNow = (n: number): Promise<number> => waitFor(held, { what: `${n} polls to be held`, timeoutMs: 30_000, intervalMs: 20, until: (h) => h === n });

    poll(0);
    await heldNow(1);
    const one = await queriesOverWindow();
    for (let i = 1; i < N; i++) poll(i);
    await heldNow(N);
    const many = await queriesOverWindow();
    t.diagnostic(`queries over ${WINDOW_MS} ms: 1 held poll ${one}, ${N} held polls ${many}`);
    // One rotation sweep is two queries, whatever the number of polls; a window holds one or two.
    assert.ok(one <= 4, `1 held poll: ${one} queries over ${WINDOW_MS} ms`);
    assert.ok(many <= 4, `${N} held polls: ${many} queries over ${WINDOW_MS} ms`);
    assert.ok(many <= one + 2, `the count does not grow with the polls: 1 → ${one}, ${N} → ${many}`);

    // Watches: N held watches on one secret add the watch hub's sweep (one query), nothing per watch.
    const watches = agents.map((a) => v.call(a, 'GET', '/v1/projects/p/secrets/watched?waitForVersionAfter=1&wait=60'));
    // past their first check (a fixed pause was not enough on a busy machine: first checks fell into the window)
    await waitFor(() => watchesHeld(v.ctx), { what: `${N} watches past their first check`, timeoutMs: 30_000, intervalMs: 20, until: (w) => w.checked === N, show: (w) => `${w.held} held, ${w.checked} checked` });
    const withWatches = await queriesOverWindow();
    t.diagnostic(`queries over ${WINDOW_MS} ms: ${N} held polls and ${N} held watches ${withWatches}`);
    assert.ok(withWatches <= 6, `${N} polls and ${N} watches: ${withWatches} queries over ${WINDOW_MS} ms`);

    // A rotation policy for agent-7 (by machine) creates a preflight job: agent-7's poll answers
    // within a moment, every other poll stays held.
    const set = await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/rotated/rotation', { provider: 'postgres', agent: 'agent-7', adminSecret: 'admin' });
    assert.equal(set.status, 200, set.raw);
    const answered = await Promise.race([polls[7] as Promise<InjectedResponse>, sleep(3000).then(() => undefined)]);
    assert.ok(answered, 'agent-7 was woken within 3 s');
    assert.equal(answered.status, 200, answered.raw);
    assert.equal((answered.body as { jobs: Array<{ kind: string }> }).jobs[0]?.kind, 'preflight');
    await sleep(200);
    assert.equal(await held(), N - 1, 'the other polls are still held');

    // A write of the watched secret answers every watch with the new value.
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/watched', { value: 'v2' })).status, 200);
    const answers = await Promise.race([Promise.all(watches), sleep(5000).then(() => undefined)]);
    assert.ok(answers, 'every watch answered within 5 s');
    for (const a of answers) assert.equal((a.body as { value: string }).value, 'v2', a.raw);
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [], 'no listener-leak warning with every poll and watch held');
  });
});

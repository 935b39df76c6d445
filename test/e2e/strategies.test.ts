// Rotation that never breaks the application: `dual` (engine-native overlap) and `alternating`
// (two users) end to end, with a real vault, a real agent and real servers, for every engine
// that supports them; `dual` refused where the engine has no overlap; and watchers that follow.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engineFixture, fixtureCombos } from '../support/engine-fixtures.js';
import type { EngineFixture, FixtureEngine } from '../support/engine-fixtures.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import { randomTag } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const GRACE_MS = 2500;

async function runWait(h: RotationHarness): Promise<{ state: string; version: number; latencyMs: number; lastSuccessAt: number }> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--timeout', '60', '--json']);
  assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout) as { state: string; version: number; latencyMs: number; lastSuccessAt: number };
}

const ALTERNATING: FixtureEngine[] = fixtureCombos().filter((c) => c.strategy === 'alternating').map((c) => c.engine);

for (const engine of ALTERNATING) {
  describe(`${engine}: alternating${engine === 'mongodb' ? ' (MongoDB wire test server)' : ''}`, () => {
    let fx: EngineFixture;
    let h: RotationHarness;
    const a = `sk_alt_a_${randomTag(3)}`;
    const b = `sk_alt_b_${randomTag(3)}`;
    before(async () => {
      fx = await engineFixture(engine);
      await fx.createUsers([{ username: a, password: `pw-a-${randomTag(8)}` }, { username: b, password: `pw-b-${randomTag(8)}` }]);
      // The secret starts on user a with a's real password (re-read so the fixture's value is used).
      const pwA = `start-a-${randomTag(8)}`;
      await fx.createUsers([{ username: a, password: pwA }]);
      h = await startRotationHarness({ engine: engine === 'mysql' ? 'mysql' : engine, target: fx.target(a, pwA), admin: fx.admin, strategy: 'alternating', alternateUsername: b, grace: `${GRACE_MS}ms`, lease: '5s' });
    });
    after(async () => {
      await h?.close();
      await fx?.cleanup();
    });

    test('each rotation changes the user that is not live and flips username and password together; the previous user still logs in', async () => {
      const agent = await h.startAgent();
      const first = await h.read();
      assert.equal(first.fields.username, a);
      const r1 = await runWait(h);
      assert.equal(r1.state, 'promoted');
      const second = await h.read();
      assert.equal(second.fields.username, b, 'the secret now names the other user');
      assert.equal(await fx.login(b, second.fields.password as string), true, 'the new live user logs in');
      assert.equal(await fx.login(a, first.fields.password as string), true, 'the previous user still logs in (overlap)');
      // The next rotation waits until the grace period after the last promotion has passed.
      const r2 = await runWait(h);
      assert.equal(r2.state, 'promoted');
      const third = await h.read();
      assert.equal(third.fields.username, a, 'back to the first user');
      // Measured on the vault's clock between the two promotions, not from when the test got round
      // to starting the second run (a busy machine can take seconds to spawn the CLI).
      // (`lastSuccessAt` of a promoted run is that rotation's own promotion time.)
      assert.ok(r2.lastSuccessAt - r1.lastSuccessAt >= GRACE_MS, `the second rotation waited out the grace period (${r2.lastSuccessAt - r1.lastSuccessAt} ms after the first promotion)`);
      assert.equal(await fx.login(a, third.fields.password as string), true);
      assert.equal(await fx.login(a, first.fields.password as string), false, 'a user\'s own old password is gone once it is rotated again');
      assert.equal(await fx.login(b, second.fields.password as string), true, 'and the previous user still logs in');
      await agent.stop();
    });
  });
}

describe('redis: dual — the old password works beside the new one until the grace period ends', () => {
  let fx: EngineFixture;
  let h: RotationHarness;
  const user = `sk_dual_${randomTag(3)}`;
  before(async () => {
    fx = await engineFixture('redis');
    const pw = `start-${randomTag(8)}`;
    await fx.createUsers([{ username: user, password: pw }]);
    h = await startRotationHarness({ engine: 'redis', target: fx.target(user, pw), admin: fx.admin, strategy: 'dual', grace: `${GRACE_MS}ms`, lease: '5s' });
  });
  after(async () => {
    await h?.close();
    await fx?.cleanup();
  });

  test('during the grace period both credentials log in; after the retire job only the new one does', async () => {
    const agent = await h.startAgent();
    const before = await h.read();
    const r = await runWait(h);
    assert.equal(r.state, 'promoted');
    const after = await h.read();
    assert.equal(after.fields.username, user);
    assert.equal(await fx.login(user, after.fields.password as string), true, 'new works');
    assert.equal(await fx.login(user, before.fields.password as string), true, 'old still works during the grace period');
    await waitFor(async () => !(await fx.login(user, before.fields.password as string)), {
      what: 'the retire job to remove the old password (it still logged in)', timeoutMs: GRACE_MS + 60_000, intervalMs: 200,
    });
    assert.equal(await fx.login(user, after.fields.password as string), true, 'new still works after retirement');
    const audit = jsonOf<{ events: Array<{ action: string; details?: { rotationId?: string } }> }>(await h.sk(['audit', 'list', '--project', 'db', '--all', '--json']));
    const retired = audit.events.find((e) => e.action === 'rotation.retire_succeeded');
    assert.ok(retired, 'the retire job is audited');
    // Its timeline (issue 29): the agent's login and proofs of the live credential, then retired.
    const job = jsonOf<{ kind: string; timeline: Array<{ source: string; step: string }> }>(await h.sk(['rotation', 'show', retired.details?.rotationId ?? '?', '--json']));
    assert.equal(job.kind, 'retire');
    assert.deepEqual(job.timeline.filter((e) => e.source === 'agent').map((e) => e.step), ['claimed', 'connected', 'verified', 'verified']);
    assert.equal(job.timeline.at(-1)?.step, 'retired');
    await agent.stop();
  });
});

describe('dual is refused where the engine has no native overlap', () => {
  for (const engine of ['postgres', 'mongodb'] as const) {
    test(`${engine}: rotation set --strategy dual fails and suggests alternating`, async () => {
      const fx = await engineFixture(engine);
      const user = `sk_nodual_${randomTag(3)}`;
      const pw = `pw-${randomTag(8)}`;
      await fx.createUsers([{ username: user, password: pw }]);
      const h = await startRotationHarness({ engine, target: fx.target(user, pw), admin: fx.admin });
      try {
        const r = await h.sk(['rotation', 'set', 'db', 'app', '--provider', engine, '--agent-label', 'rotator', '--admin-secret', 'admin', '--strategy', 'dual', '--json']);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /^error SK_ERR_ROTATION_STRATEGY_UNSUPPORTED: .*alternating/);
      } finally {
        await h.close();
        await fx.cleanup();
      }
    });
  }

  test('mysql on MariaDB: the preflight of a dual policy fails and says to use alternating; then the vault refuses dual at once', async () => {
    const fx = await engineFixture('mysql');
    const user = `sk_nodual_${randomTag(3)}`;
    const pw = `pw-${randomTag(8)}`;
    await fx.createUsers([{ username: user, password: pw }]);
    // Before any preflight the vault cannot tell MariaDB from MySQL 8, so dual is accepted…
    const h = await startRotationHarness({ engine: 'mysql', strategy: 'dual', target: fx.target(user, pw), admin: fx.admin });
    const agent = await h.startAgent();
    try {
      // …and the preflight `rotation set` created finds MariaDB and fails.
      const latest = async (): Promise<string> =>
        jsonOf<{ policies: Array<{ state: string }> }>(await h.sk(['rotation', 'list', '--json'])).policies[0]?.state ?? 'none';
      await waitFor(latest, { what: 'the preflight to finish', timeoutMs: 20_000, until: (state) => !['pending', 'claimed', 'none'].includes(state), show: (state) => state });
      assert.equal(await latest(), 'failed');
      const audit = jsonOf<{ events: Array<{ action: string; details: { problems?: string[] } }> }>(await h.sk(['audit', 'list', '--project', 'db', '--all', '--json']));
      const failed = audit.events.find((e) => e.action === 'rotation.preflight_failed');
      assert.match((failed?.details.problems ?? []).join('; '), /MariaDB .*alternating/);
      assert.equal(await fx.login(user, pw), true, 'nothing changed');
      // The vault now knows the server is MariaDB: setting dual again is refused at once.
      const again = await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'mysql', '--agent-label', 'rotator', '--admin-secret', 'admin', '--strategy', 'dual', '--json']);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /^error SK_ERR_ROTATION_STRATEGY_UNSUPPORTED: MariaDB .*alternating/);
      // The dual policy stored before is not handed to the agent either: the claim is refused and the rotation fails.
      const run = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--timeout', '30', '--json']);
      assert.notEqual(run.code, 0);
      const st = JSON.parse(run.stdout) as { state: string; lastError: { code: string; message: string } };
      assert.equal(st.state, 'failed');
      assert.equal(st.lastError.code, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
      assert.match(st.lastError.message, /^MariaDB/);
      assert.equal(await fx.login(user, pw), true, 'still nothing changed');
    } finally {
      await agent.stop();
      await h.close();
      await fx.cleanup();
    }
  });
});

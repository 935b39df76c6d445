/**
 * The two end-to-end rotation tests every engine passes with a real vault and a real agent
 * process (issue "Providers", "Done when"): rotations promote and only the new value logs in; a
 * wrong admin password fails the rotation with the live credential proven and still working.
 * Each test/e2e/rotation-<engine>.test.ts sets up its own users and admin, then calls this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RotationHarness } from './rotation-harness.js';
import { jsonOf } from './processes.js';
import { randomTag } from './services.js';

export interface EngineRotationSetup {
  /** Test names start with it, e.g. "mongodb (MongoDB wire test server)". */
  label: string;
  harness: RotationHarness;
  user: string;
  /** The admin secret's fields, to restore after the wrong-password case. */
  admin: Record<string, string>;
  login(user: string, password: string): Promise<boolean>;
}

async function runRotation(h: RotationHarness): Promise<{ code: number | null; state: string; lastError: string | null }> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  const st = JSON.parse(r.stdout) as { state: string; lastError: { code: string; message: string } | null };
  return { code: r.code, state: st.state, lastError: st.lastError ? `${st.lastError.code}: ${st.lastError.message}` : null };
}

/** Declares the tests; `setup()` is called inside them, after the file's `before` hook ran. */
export function defineEngineRotationTests(label: string, setup: () => EngineRotationSetup, rotations = 3): void {
  test(`${label}: rotation run --wait promotes; the value machines read logs in and the old one is refused`, async () => {
    const { harness: h, user, login } = setup();
    const agent = await h.startAgent();
    let previous = (await h.read()).fields.password as string;
    assert.equal(await login(user, previous), true, 'the initial password logs in');
    for (let i = 1; i <= rotations; i++) {
      const r = await runRotation(h);
      assert.equal(r.code, 0, `rotation ${i}: ${r.state} ${r.lastError ?? ''}`);
      assert.equal(r.state, 'promoted');
      const now = (await h.read()).fields.password as string;
      assert.notEqual(now, previous);
      assert.equal(await login(user, now), true, `rotation ${i}: the promoted value logs in`);
      assert.equal(await login(user, previous), false, `rotation ${i}: the old value is refused`);
      previous = now;
    }
    // The last rotation's timeline (issue 29): the agent's timed steps in order, between the vault's events.
    const st = JSON.parse((await h.sk(['rotation', 'status', 'db', 'app', '--json'])).stdout) as { timeline: Array<{ source: string; step: string; ms?: number }> };
    const agentSteps = st.timeline.filter((e) => e.source === 'agent');
    assert.deepEqual(agentSteps.map((e) => e.step), ['claimed', 'connected', 'applied', 'verified'], JSON.stringify(st.timeline));
    assert.ok(agentSteps.every((e) => typeof e.ms === 'number' && e.ms >= 0));
    assert.deepEqual(st.timeline.filter((e) => e.source === 'vault').map((e) => e.step), ['created', 'claimed', 'applied', 'promoted']);
    assert.equal(JSON.stringify(st.timeline).includes(previous), false);
    assert.equal(agent.output().includes(previous), false, 'no password in the agent log');
    assert.equal(h.vault.output().includes(previous), false, 'no password in the vault log');
    await agent.stop();
  });

  test(`${label}: a wrong admin password fails the rotation with the live credential verified and still working`, async () => {
    const { harness: h, user, login, admin } = setup();
    const before = await h.read();
    const wrong = `wrong-${randomTag(10)}`;
    jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...admin, password: wrong }), '--json']));
    const agent = await h.startAgent();
    try {
      const r = await runRotation(h);
      assert.notEqual(r.code, 0);
      assert.equal(r.state, 'failed', `the rotation is ${r.state} (${r.lastError ?? ''}), not failed`);
      assert.match(r.lastError ?? '', /SK_ERR_PROVIDER_AUTH_FAILED/);
      assert.equal((r.lastError ?? '').includes(wrong), false);
      assert.match(agent.output(), /"liveVerified":true/, 'the agent proved the live credential');
      const after = await h.read();
      assert.equal(after.version, before.version);
      assert.equal(await login(user, after.fields.password as string), true);
    } finally {
      jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify(admin), '--json']));
      await agent.stop();
    }
  });
}

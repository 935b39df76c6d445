// A watch held open while its secret's access policy stops allowing the reader (the time window
// closes, or an operator narrows the policy) is answered as a fresh read would be at the moment it
// wakes: refused with the axis's code and audited as a refused read, never handed the new value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityKey } from '../../protocol/keys.js';
import { forEachStore } from '../support/stores.js';
import { expectStatus, policyProject } from '../support/policy-fixtures.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { auditEvents, codeOf } from '../support/canary-fixtures.js';
import { waitFor } from '../support/wait.js';
import { watchesHeld } from '../../vault-server/modules/secrets/secret-watch.js';

const FIRST = 'watched-value-1-c41e';
const SECOND = 'watched-value-2-9d07';
/** Wednesday 2031-01-01 12:00 UTC: inside the window below. */
const NOON = Date.UTC(2031, 0, 1, 12, 0, 0);

const ok = expectStatus;
/** A project `p` with a plain secret `s`, a reader machine granted on it, and a policy bound to it. */
const setup = (v: TestVault, project: string, policy: Record<string, unknown>): Promise<IdentityKey> => policyProject(v, project, policy, FIRST);

/**
 * Holds a watch for a version after 1 from `remoteAddress`, runs `change` once the watch has made
 * its first check, writes version 2, and returns the watch's answer.
 */
async function heldAcross(v: TestVault, reader: IdentityKey, project: string, remoteAddress: string, change: () => Promise<void>): Promise<InjectedResponse> {
  const held = v.call(reader, 'GET', `/v1/projects/${project}/secrets/s?waitForVersionAfter=1&wait=30`, undefined, { remoteAddress });
  await waitFor(async () => watchesHeld(v.ctx).checked, { what: 'the watch to be held', timeoutMs: 10_000, intervalMs: 10, until: (n) => n === 1 });
  await change();
  await ok(v.call(v.operator, 'PUT', `/v1/projects/${project}/secrets/s`, { value: SECOND }));
  return held;
}

/** The refusal as a read gives it: status, code, no value bytes, one denied audit event naming the axis and the watch. */
async function assertRefusedWatch(v: TestVault, res: InjectedResponse, status: number, code: string, axis: string, deniedBefore: number): Promise<void> {
  assert.equal(res.status, status, res.raw);
  assert.equal(codeOf(res), code);
  assert.equal(res.raw.includes(SECOND), false, 'the refused watch carries no value bytes');
  assert.equal(res.raw.includes(FIRST), false);
  const denied = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'denied');
  assert.equal(denied.length, deniedBefore + 1, 'one audit event for the refusal');
  assert.equal(denied.at(-1)?.details['policy'], axis);
  assert.equal(denied.at(-1)?.details['code'], code);
  assert.equal(denied.at(-1)?.details['watchAfter'], 1);
  const served = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'success' && e.details['version'] === 2);
  assert.deepEqual(served, [], 'no read of the new version is recorded');
}

const deniedCount = async (v: TestVault): Promise<number> => (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'denied').length;

forEachStore('a held watch across an access policy change', (s) => {
  test('the time window closes while the watch is held: the new version is refused 403 SK_ERR_POLICY_TIME_WINDOW, not served', async () => {
    let clock = NOON;
    const v = await startTestVault(await s.openAt(await s.freshLocation()), { now: () => clock });
    try {
      const reader = await setup(v, 'tw', { timeWindow: '08:00-18:00 UTC' });
      await ok(v.call(reader, 'GET', '/v1/projects/tw/secrets/s', undefined, { remoteAddress: '10.1.2.3' }));
      const before = await deniedCount(v);
      const res = await heldAcross(v, reader, 'tw', '10.1.2.3', async () => {
        clock = Date.UTC(2031, 0, 1, 19, 0, 0); // past the window's end
      });
      await assertRefusedWatch(v, res, 403, 'SK_ERR_POLICY_TIME_WINDOW', 'timeWindow', before);
    } finally {
      await v.close();
    }
  });

  test('an operator narrows the time window while the watch is held: refused 403 SK_ERR_POLICY_TIME_WINDOW', async () => {
    const clock = NOON;
    const v = await startTestVault(await s.openAt(await s.freshLocation()), { now: () => clock });
    try {
      const reader = await setup(v, 'narrow', { timeWindow: '08:00-18:00 UTC' });
      const before = await deniedCount(v);
      const res = await heldAcross(v, reader, 'narrow', '10.1.2.3', async () => {
        await ok(v.call(v.operator, 'PATCH', '/v1/projects/narrow/policies/pol', { timeWindow: '20:00-22:00 UTC' }));
      });
      await assertRefusedWatch(v, res, 403, 'SK_ERR_POLICY_TIME_WINDOW', 'timeWindow', before);
    } finally {
      await v.close();
    }
  });

  test('an operator narrows the IP allowlist to exclude the watcher while the watch is held: refused 403 SK_ERR_POLICY_IP', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'net', { ipAllowlist: ['10.0.0.0/8'] });
      await ok(v.call(reader, 'GET', '/v1/projects/net/secrets/s', undefined, { remoteAddress: '10.1.2.3' }));
      const before = await deniedCount(v);
      const res = await heldAcross(v, reader, 'net', '10.1.2.3', async () => {
        await ok(v.call(v.operator, 'PATCH', '/v1/projects/net/policies/pol', { ipAllowlist: ['192.168.0.0/16'] }));
      });
      await assertRefusedWatch(v, res, 403, 'SK_ERR_POLICY_IP', 'ipAllowlist', before);
      // And a fresh read from the same address now answers the same.
      const fresh = await v.call(reader, 'GET', '/v1/projects/net/secrets/s', undefined, { remoteAddress: '10.1.2.3' });
      assert.equal(fresh.status, res.status);
      assert.equal(codeOf(fresh), codeOf(res));
    } finally {
      await v.close();
    }
  });
});

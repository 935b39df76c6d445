/**
 * A secret under an access policy, for the access-policy tests: project `project` with a plain
 * secret `s` holding `value`, a machine `<project>-reader` granted on the project, and a policy
 * `pol` (the given axes) bound to `s`.
 */
import assert from 'node:assert/strict';
import type { IdentityKey } from '../../protocol/keys.js';
import type { InjectedResponse, TestVault } from './vault-app.js';

/** The response, asserted to have `status`. */
export async function expectStatus(res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> {
  const r = await res;
  assert.equal(r.status, status, r.raw);
  return r;
}

/** Sets the project up as described above; returns the reader's key. */
export async function policyProject(v: TestVault, project: string, policy: Record<string, unknown>, value: string): Promise<IdentityKey> {
  await expectStatus(v.call(v.operator, 'POST', '/v1/projects', { name: project }), 201);
  await expectStatus(v.call(v.operator, 'PUT', `/v1/projects/${project}/secrets/s`, { value }));
  const reader = await v.addMachine(`${project}-reader`);
  await expectStatus(v.call(v.operator, 'POST', '/v1/grants', { machine: `${project}-reader`, project }), 201);
  await expectStatus(v.call(v.operator, 'POST', `/v1/projects/${project}/policies`, { name: 'pol', ...policy }), 201);
  await expectStatus(v.call(v.operator, 'PUT', `/v1/projects/${project}/policies/bindings/s`, { policy: 'pol' }));
  return reader;
}

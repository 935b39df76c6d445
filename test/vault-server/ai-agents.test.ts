// AI agents (issue 23) on both stores: the identity (scopes, `all`, disable / enable / revoke on
// the very next request, its own IP allowlist, a request rate per key), the harvest guard (no
// write to a secret a rotation policy uses; a policy an AI agent sets waits for an operator's
// `rotation approve`), and the detour an AI agent with every scope could try through a machine of
// its own — refused until an operator approves the machine, each step in the audit log under the
// agent's name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { codeOf, enroll } from '../support/enrollment.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { ALL_AI_SCOPES } from '../../vault-server/http/ai-scopes.js';
import { runSchedulerTick } from '../../vault-server/modules/rotations/rotation-scheduler.js';

const b64 = (k: IdentityKey): string => Buffer.from(k.publicKey).toString('base64');

interface AuditRow { action: string; actorKind: string; actorId: string | null; target: string; outcome: string; details: Record<string, unknown> }

forEachStore('AI agents', (s) => {
  let v: TestVault;
  const DB = { host: 'db.internal', port: '5432', username: 'app', password: 'app-password-1', database: 'shop' };
  const ADMIN = { ...DB, username: 'admin', password: 'admin-password-1' };

  const ok = async (key: IdentityKey, method: string, path: string, body?: unknown, expect = 200): Promise<InjectedResponse> => {
    const res = await v.call(key, method, path, body);
    assert.equal(res.status, expect, `${method} ${path}: ${res.raw}`);
    return res;
  };
  const createAgent = async (name: string, scopes: readonly string[], extra: Record<string, unknown> = {}): Promise<{ key: IdentityKey; id: string; body: Record<string, unknown> }> => {
    const key = generateIdentityKey();
    const res = await ok(v.operator, 'POST', '/v1/ai-agents', { name, publicKey: b64(key), scopes, ...extra }, 201);
    return { key, id: (res.body as { id: string }).id, body: res.body as Record<string, unknown> };
  };
  const audit = async (): Promise<AuditRow[]> => ((await ok(v.operator, 'GET', '/v1/audit?limit=10000&order=asc')).body as { events: AuditRow[] }).events;

  before(async () => {
    v = await startTestVault(await s.open());
    await ok(v.operator, 'POST', '/v1/projects', { name: 'shop' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/db', { fields: DB });
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/admin', { fields: ADMIN });
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/api', { value: 'api-value-1' });
    await v.addMachine('agent1', ['rotator']);
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'agent1', project: 'shop', secret: 'admin' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/db/rotation', { provider: 'postgres', adminSecret: 'admin', agent: 'agent1' });
  });
  after(async () => v.close());

  test('create: scopes from the catalog, `all` expanded now; unknown scopes and a key another identity holds are refused; AI agents manage no AI agents', async () => {
    const all = await createAgent('everything', ['all']);
    assert.deepEqual(all.body['scopes'], [...ALL_AI_SCOPES]);
    assert.equal(all.body['keyId'], all.key.keyId);
    const some = await createAgent('reader', ['rotations:read', 'projects:read', 'projects:read']);
    assert.deepEqual(some.body['scopes'], ['projects:read', 'rotations:read'], 'catalog order, no repeats');
    const unknown = await v.call(v.operator, 'POST', '/v1/ai-agents', { name: 'bad', publicKey: b64(generateIdentityKey()), scopes: ['secrets:read-values'] });
    assert.equal(unknown.status, 400);
    assert.equal(codeOf(unknown), 'SK_ERR_SCOPE_UNKNOWN');
    const reused = await v.call(v.operator, 'POST', '/v1/ai-agents', { name: 'clone', publicKey: b64(v.operator), scopes: ['all'] });
    assert.equal(codeOf(reused), 'SK_ERR_CONFLICT', 'an operator\'s key is no AI agent\'s');
    const asMachine = await v.call(v.operator, 'POST', '/v1/machines', { name: 'sneaky', publicKey: b64(all.key) });
    assert.equal(codeOf(asMachine), 'SK_ERR_CONFLICT', 'an AI agent\'s key can never become a machine');
    assert.equal((await v.call(all.key, 'GET', '/v1/ai-agents')).status, 401);
    assert.equal((await v.call(all.key, 'POST', '/v1/ai-agents', { name: 'child', publicKey: b64(generateIdentityKey()), scopes: ['all'] })).status, 401);
    const listed = (await ok(v.operator, 'GET', '/v1/ai-agents')).body as { aiAgents: Array<{ name: string; status: string }> };
    assert.ok(listed.aiAgents.some((a) => a.name === 'everything' && a.status === 'active'));
  });

  test('GET /v1/projects answers an AI agent with projects:read and refuses one without it (SK_ERR_SCOPE_MISSING)', async () => {
    const reader = await createAgent('projects-reader', ['projects:read']);
    const res = await ok(reader.key, 'GET', '/v1/projects');
    assert.deepEqual((res.body as { projects: Array<{ name: string }> }).projects.map((p) => p.name), ['shop']);
    const other = await createAgent('machines-reader', ['machines:read']);
    const refused = await v.call(other.key, 'GET', '/v1/projects');
    assert.equal(refused.status, 403);
    assert.equal(codeOf(refused), 'SK_ERR_SCOPE_MISSING');
    await ok(other.key, 'GET', '/v1/machines');
  });

  test('disable refuses the next request (the identity cache was warm), enable restores it, revoke is for good', async () => {
    const a = await createAgent('switchable', ['projects:read']);
    await ok(a.key, 'GET', '/v1/projects');
    await ok(v.operator, 'POST', '/v1/ai-agents/switchable/disable');
    const disabled = await v.call(a.key, 'GET', '/v1/projects');
    assert.equal(disabled.status, 403);
    assert.equal(codeOf(disabled), 'SK_ERR_AI_AGENT_DISABLED');
    await ok(v.operator, 'POST', '/v1/ai-agents/switchable/enable');
    await ok(a.key, 'GET', '/v1/projects');
    await ok(v.operator, 'POST', '/v1/ai-agents/switchable/revoke');
    const revoked = await v.call(a.key, 'GET', '/v1/projects');
    assert.equal(revoked.status, 401);
    assert.equal(codeOf(revoked), 'SK_ERR_AI_AGENT_REVOKED');
    assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/ai-agents/switchable/enable')), 'SK_ERR_CONFLICT');
    assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/ai-agents', { name: 'switchable', publicKey: b64(generateIdentityKey()), scopes: ['all'] })), 'SK_ERR_CONFLICT', 'a revoked name stays taken');
    const actions = (await audit()).filter((e) => e.target === 'ai_agent:switchable').map((e) => e.action);
    assert.deepEqual(actions, ['ai_agent.create', 'ai_agent.disable', 'ai_agent.enable', 'ai_agent.revoke']);
  });

  test('an AI agent\'s own IP allowlist: refused from elsewhere (SK_ERR_IP_NOT_ALLOWED), answered from inside', async () => {
    const a = await createAgent('fenced', ['projects:read'], { allowCidrs: ['10.0.0.0/8', '2001:db8::/32'] });
    const outside = await v.call(a.key, 'GET', '/v1/projects');
    assert.equal(outside.status, 403);
    assert.equal(codeOf(outside), 'SK_ERR_IP_NOT_ALLOWED');
    assert.equal((await v.call(a.key, 'GET', '/v1/projects', undefined, { remoteAddress: '10.9.8.7' })).status, 200);
    const bad = await v.call(v.operator, 'POST', '/v1/ai-agents', { name: 'badcidr', publicKey: b64(generateIdentityKey()), scopes: ['all'], allowCidrs: ['10.0.0.0/33'] });
    assert.equal(codeOf(bad), 'SK_ERR_VALIDATION');
  });

  test('requests are rate-limited per key: over its rate an agent gets 429 with Retry-After; another agent is unaffected', async () => {
    const a = await createAgent('chatty', ['projects:read'], { ratePerMinute: 3 });
    const b = await createAgent('quiet', ['projects:read'], { ratePerMinute: 3 });
    for (let i = 0; i < 3; i++) await ok(a.key, 'GET', '/v1/projects');
    const limited = await v.call(a.key, 'GET', '/v1/projects');
    assert.equal(limited.status, 429);
    assert.equal(codeOf(limited), 'SK_ERR_AI_AGENT_RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    await ok(b.key, 'GET', '/v1/projects');
    // A forged request naming its key id spends nothing of the budget: only verified requests count.
    const forged = v.sign(generateIdentityKey(), 'GET', '/v1/projects');
    forged.headers['signature-input'] = forged.headers['signature-input']!.replace(/keyid="[^"]+"/, `keyid="${b.key.keyId}"`);
    for (let i = 0; i < 5; i++) assert.equal((await v.send('GET', '/v1/projects', forged.headers)).status, 401);
    await ok(b.key, 'GET', '/v1/projects');
  });

  test('harvest: an AI agent with every scope cannot change the host of a rotated secret or of its admin secret, by write, rollback or import — paused policy or not', async () => {
    const { key, id } = await createAgent('harvester', ['all']);
    const evil = { ...DB, host: 'attacker.example' };
    for (const [path, body] of [
      ['/v1/projects/shop/secrets/db', { fields: evil }],
      ['/v1/projects/shop/secrets/admin', { fields: { ...ADMIN, host: 'attacker.example' } }],
    ] as const) {
      const res = await v.call(key, 'PUT', path, body);
      assert.equal(res.status, 403, res.raw);
      assert.equal(codeOf(res), 'SK_ERR_AI_AGENT_SECRET_IN_USE');
    }
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/admin', { fields: ADMIN }); // a version 2 to roll back from
    assert.equal(codeOf(await v.call(key, 'POST', '/v1/projects/shop/secrets/admin/rollback', { to: 1 })), 'SK_ERR_AI_AGENT_SECRET_IN_USE');
    assert.equal(codeOf(await v.call(key, 'POST', '/v1/projects/shop/import', { onConflict: 'new-version', secrets: [{ name: 'admin', fields: { ...ADMIN, host: 'attacker.example' } }] })), 'SK_ERR_AI_AGENT_SECRET_IN_USE');
    // An operator's pause would let an operator write it; an AI agent still may not.
    await ok(key, 'POST', '/v1/projects/shop/secrets/db/rotation/pause');
    assert.equal(codeOf(await v.call(key, 'PUT', '/v1/projects/shop/secrets/db', { fields: evil })), 'SK_ERR_AI_AGENT_SECRET_IN_USE');
    await ok(v.operator, 'POST', '/v1/projects/shop/secrets/db/rotation/resume');
    // Secrets no policy uses: an AI agent writes them.
    await ok(key, 'PUT', '/v1/projects/shop/secrets/api', { value: 'api-value-2' });
    const fields = await v.ctx.store.db.selectFrom('secrets').select(['name', 'current_version']).where('name', 'in', ['db', 'admin']).orderBy('name').execute();
    assert.deepEqual(fields.map((f) => [f.name, f.current_version]), [['admin', 2], ['db', 1]], 'nothing the agent sent was stored');
    const denied = (await audit()).filter((e) => e.actorId === id && e.outcome === 'denied');
    assert.deepEqual(denied.map((e) => e.action), ['secret.write', 'secret.write', 'secret.rollback', 'secret.import', 'secret.write']);
    assert.ok(denied.every((e) => e.details['aiAgent'] === 'harvester' && e.details['code'] === 'SK_ERR_AI_AGENT_SECRET_IN_USE'));
  });

  test('harvest: a rotation policy an AI agent creates or changes does not run — no preflight, no schedule, no run, no claim — until an operator approves it', async () => {
    const { key } = await createAgent('policy-maker', ['all']);
    const agentKey = await v.addMachine('agent2', ['rotator2']);
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'agent2', project: 'shop', secret: 'admin' }, 201);
    // The agent makes a target whose host it chose, and points a policy at the real admin secret.
    await ok(key, 'PUT', '/v1/projects/shop/secrets/db2', { fields: { ...DB, host: 'attacker.example' } });
    const set = await ok(key, 'PUT', '/v1/projects/shop/secrets/db2/rotation', { provider: 'postgres', adminSecret: 'admin', agent: 'agent2', schedule: '* * * * *' });
    const policy = (set.body as { policy: { enabled: boolean; pausedReason: string; preflightId: string | null; nextRunAt: number | null; awaitingApprovalBy: string } }).policy;
    assert.equal(policy.enabled, false);
    assert.equal(policy.pausedReason, 'awaiting_approval');
    assert.equal(policy.preflightId, null, 'not even a preflight before approval');
    assert.equal(policy.nextRunAt, null);
    assert.equal(policy.awaitingApprovalBy, 'policy-maker');
    const status = (await ok(key, 'GET', '/v1/projects/shop/secrets/db2/rotation')).body as { pausedReason: string; enabled: boolean };
    assert.deepEqual([status.enabled, status.pausedReason], [false, 'awaiting_approval']);

    for (const [who, path] of [[key, 'run'], [key, 'resume'], [v.operator, 'run'], [v.operator, 'resume']] as const) {
      const res = await v.call(who, 'POST', `/v1/projects/shop/secrets/db2/rotation/${path}`);
      assert.equal(res.status, 409, `${path}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_ROTATION_AWAITING_APPROVAL');
    }
    await v.ctx.store.db.updateTable('rotation_policies').set({ next_run_at: 0 }).execute(); // every policy due, as if the schedule fired
    await runSchedulerTick(v.ctx);
    const jobs = await v.ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id').select(['secrets.name as name']).where('secrets.name', '=', 'db2').execute();
    assert.deepEqual(jobs, [], 'the scheduler created nothing for it');
    assert.equal((await v.call(agentKey, 'GET', '/v1/agent/rotations')).status, 204, 'its agent is handed nothing');
    // Now the AI agent cannot write its own target any more: a policy uses it.
    assert.equal(codeOf(await v.call(key, 'PUT', '/v1/projects/shop/secrets/db2', { fields: DB })), 'SK_ERR_AI_AGENT_SECRET_IN_USE');
    // The AI agent cannot approve; an operator can, and sees who wrote the target.
    assert.equal((await v.call(key, 'POST', '/v1/projects/shop/secrets/db2/rotation/approve')).status, 401);
    const approved = (await ok(v.operator, 'POST', '/v1/projects/shop/secrets/db2/rotation/approve')).body as {
      policy: { enabled: boolean; approvedChangeBy: string; targetWrittenBy: string; adminWrittenBy: string; preflightId: string | null };
    };
    assert.equal(approved.policy.enabled, true);
    assert.equal(approved.policy.approvedChangeBy, 'policy-maker');
    assert.equal(approved.policy.targetWrittenBy, 'ai_agent:policy-maker');
    assert.equal(approved.policy.adminWrittenBy, 'operator:owner');
    assert.ok(approved.policy.preflightId);
    const handed = await v.call(agentKey, 'GET', '/v1/agent/rotations');
    assert.equal(handed.status, 200, handed.raw);
    assert.deepEqual((handed.body as { jobs: Array<{ secret: string; kind: string }> }).jobs.map((j) => [j.secret, j.kind]), [['db2', 'preflight']]);
    assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/shop/secrets/db2/rotation/approve')), 'SK_ERR_CONFLICT', 'nothing awaits approval any more');
  });

  test('harvest: an AI agent\'s change to an approved policy pauses it; a job already waiting is not handed out until an operator approves', async () => {
    const { key } = await createAgent('policy-changer', ['rotations:write', 'rotations:trigger', 'secrets:write']);
    const agentKey = await v.addMachine('agent3');
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'agent3', project: 'shop', secret: 'admin' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/db3', { fields: DB });
    const set = await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/db3/rotation', { provider: 'postgres', adminSecret: 'admin', agent: 'agent3' });
    assert.equal((set.body as { policy: { enabled: boolean } }).policy.enabled, true);
    const preflight = (set.body as { policy: { preflightId: string } }).policy.preflightId;
    assert.deepEqual(((await ok(agentKey, 'GET', '/v1/agent/rotations')).body as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id), [preflight]);
    // The AI agent swaps the admin secret for one whose host it chose.
    await ok(key, 'PUT', '/v1/projects/shop/secrets/admin3', { fields: { ...ADMIN, host: 'attacker.example' } });
    await ok(key, 'PUT', '/v1/projects/shop/secrets/db3/rotation', { provider: 'postgres', adminSecret: 'admin3', agent: 'agent3' });
    assert.equal((await v.call(agentKey, 'GET', '/v1/agent/rotations')).status, 204, 'the waiting preflight is no longer handed out');
    const claim = await v.call(agentKey, 'POST', `/v1/agent/rotations/${preflight}/claim`);
    assert.equal(claim.status, 409, claim.raw);
    assert.equal(codeOf(claim), 'SK_ERR_ROTATION_AWAITING_APPROVAL');
    assert.equal(codeOf(await v.call(key, 'POST', '/v1/projects/shop/secrets/db3/rotation/run')), 'SK_ERR_ROTATION_AWAITING_APPROVAL');
    const approved = (await ok(v.operator, 'POST', '/v1/projects/shop/secrets/db3/rotation/approve')).body as { policy: { adminSecret: string; adminWrittenBy: string } };
    assert.deepEqual([approved.policy.adminSecret, approved.policy.adminWrittenBy], ['admin3', 'ai_agent:policy-changer']);
    const policyEvents = (await audit()).filter((e) => e.target === 'secret:shop/db3' && e.action.startsWith('rotation.'));
    assert.ok(policyEvents.some((e) => e.action === 'rotation.policy_updated' && e.details['aiAgent'] === 'policy-changer' && e.details['awaitingApproval'] === true));
    assert.ok(policyEvents.some((e) => e.action === 'rotation.approve' && e.actorKind === 'operator' && e.details['changeBy'] === 'policy-changer'));
  });

  test('the detour: an AI agent with every scope enrolls a machine with a key it made and grants it a secret — the read is refused until an operator approves; every step is in the audit log under its name', async () => {
    const { key: ai, id } = await createAgent('detour', ['all']);
    // It cannot register a public key itself.
    const direct = generateIdentityKey();
    assert.equal((await v.call(ai, 'POST', '/v1/machines', { name: 'mine', publicKey: b64(direct) })).status, 401);
    // It makes an enrollment token, and enrolls a machine whose key it made.
    const tok = await ok(ai, 'POST', '/v1/enrollment-tokens', { project: 'shop', machineLifetime: '1d', labels: ['rotator'] }, 201);
    const { key: machineKey, res } = await enroll(v, (tok.body as { token: string }).token, { hostname: 'ai-made-host' });
    assert.equal(res.status, 201, res.raw);
    const machine = res.body as { name: string; status: string; machineId: string };
    assert.equal(machine.status, 'pending_approval');
    await ok(ai, 'POST', '/v1/grants', { machine: machine.name, project: 'shop', secret: 'api' }, 201);
    // The read is refused, and so is every other request of the machine; the agent cannot approve or enable it.
    const refused = await v.call(machineKey, 'GET', '/v1/projects/shop/secrets/api');
    assert.equal(refused.status, 403);
    assert.equal(codeOf(refused), 'SK_ERR_MACHINE_PENDING_APPROVAL');
    assert.equal(codeOf(await v.call(machineKey, 'GET', '/v1/agent/rotations')), 'SK_ERR_MACHINE_PENDING_APPROVAL', 'nor can it claim rotations through its label');
    assert.equal((await v.call(ai, 'POST', `/v1/machines/${machine.name}/approve`)).status, 401);
    assert.equal((await v.call(ai, 'POST', `/v1/machines/${machine.name}/enable`)).status, 401);
    // An operator approves: now it reads.
    await ok(v.operator, 'POST', `/v1/machines/${machine.name}/approve`);
    const read = await ok(machineKey, 'GET', '/v1/projects/shop/secrets/api');
    assert.equal((read.body as { value: string }).value, 'api-value-2');

    const events = await audit();
    const byAgent = events.filter((e) => e.actorKind === 'ai_agent' && e.actorId === id);
    assert.deepEqual(byAgent.map((e) => `${e.action} ${e.outcome}`), ['enrollment_token.create success', 'grant.add success']);
    assert.ok(byAgent.every((e) => e.details['aiAgent'] === 'detour'), JSON.stringify(byAgent));
    const enrolled = events.find((e) => e.action === 'machine.enroll' && e.outcome === 'success' && e.target === `machine:${machine.name}`);
    assert.equal(enrolled?.details['tokenCreatedBy'], 'ai_agent:detour');
    assert.equal(enrolled?.details['status'], 'pending_approval');
    const approvedBy = events.find((e) => e.action === 'machine.approve' && e.target === `machine:${machine.name}`);
    assert.equal(approvedBy?.actorKind, 'operator');
    assert.ok(events.some((e) => e.action === 'secret.read' && e.target === 'secret:shop/api' && e.actorId === machine.machineId));
  });
});

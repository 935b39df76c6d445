// The operator roster through the API, on both stores: what migration 0006 does to an existing
// vault, races on the last owner, keys that may never be reused, invitations' edges, and a revoked
// key refused on the very next request although the identity cache was warm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { forEachStore } from '../support/stores.js';
import { startTestVault, TEST_AUTHORITY } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { rotationProofMessage } from '../../protocol/signing.js';
import { CodeMigrationProvider } from '../../vault-server/store/migrations/index.js';

const b64 = (k: IdentityKey): string => Buffer.from(k.publicKey).toString('base64');
const codeOf = (r: InjectedResponse): string | undefined => (r.body as { error?: { code?: string } } | undefined)?.error?.code;

/** Invites NAME with ROLE as `inviter`, accepts with a fresh key; returns the key. */
async function join(v: TestVault, inviter: IdentityKey, name: string, role: 'owner' | 'admin' | 'viewer'): Promise<IdentityKey> {
  const inv = await v.call(inviter, 'POST', '/v1/operator-invitations', { name, role });
  assert.equal(inv.status, 201, inv.raw);
  const key = generateIdentityKey();
  const accepted = await v.call(key, 'POST', '/v1/operator-invitations/accept', { token: (inv.body as { token: string }).token, publicKey: b64(key) });
  assert.equal(accepted.status, 201, accepted.raw);
  return key;
}

forEachStore('operators', (s) => {
  test('migration 0006 moves each existing operator key to operator_keys: the same key signs after it, and down restores the column', async () => {
    const loc = await s.freshLocation();
    const raw = await s.openAt(loc, { migrate: false });
    const migrator = new Migrator({ db: raw.db, provider: new CodeMigrationProvider(raw.dialect) });
    assert.equal((await migrator.migrateTo('0005-change-counter')).error, undefined);
    const key = generateIdentityKey();
    await sql`insert into operators (id, name, role, public_key, key_id, status, created_at) values ('op-1', 'olga', 'owner', ${Buffer.from(key.publicKey)}, ${key.keyId}, 'active', 1000)`.execute(raw.db);
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const keys = await raw.db.selectFrom('operator_keys').selectAll().execute();
    assert.deepEqual(keys.map((k) => [k.operator_id, k.key_id, k.label, Buffer.from(k.public_key).equals(Buffer.from(key.publicKey))]), [['op-1', key.keyId, 'initial', true]]);
    const columns = (await raw.db.introspection.getTables()).find((t) => t.name === 'operators')?.columns.map((c) => c.name) ?? [];
    assert.deepEqual(columns.includes('key_id'), false);
    // The rebuilt table still moves the change counter (the identity cache depends on it).
    const before = Number((await sql<{ n: number }>`select n from change_counter`.execute(raw.db)).rows[0]!.n);
    await raw.db.updateTable('operators').set({ status: 'disabled' }).where('id', '=', 'op-1').execute();
    await raw.db.updateTable('operator_keys').set({ last_used_at: 5 }).where('key_id', '=', key.keyId).execute();
    const afterStatus = Number((await sql<{ n: number }>`select n from change_counter`.execute(raw.db)).rows[0]!.n);
    assert.equal(afterStatus, before + 1, 'a status change moves the counter, last_used_at does not');
    await raw.db.updateTable('operator_keys').set({ revoked_at: 6 }).where('key_id', '=', key.keyId).execute();
    assert.equal(Number((await sql<{ n: number }>`select n from change_counter`.execute(raw.db)).rows[0]!.n), afterStatus + 1);
    await raw.db.updateTable('operator_keys').set({ revoked_at: null }).where('key_id', '=', key.keyId).execute();
    // And back: one key per operator again.
    assert.equal((await migrator.migrateTo('0005-change-counter')).error, undefined);
    const back = await sql<{ key_id: string }>`select key_id from operators where id = 'op-1'`.execute(raw.db);
    assert.deepEqual(back.rows.map((r) => r.key_id), [key.keyId]);
  });

  test('two owners demoting each other at once: exactly one succeeds, the other gets SK_ERR_LAST_OWNER', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    const second = await join(v, v.operator, 'ole', 'owner');
    const [a, b] = await Promise.all([
      v.call(v.operator, 'POST', '/v1/operators/ole/role', { role: 'admin' }),
      v.call(second, 'POST', '/v1/operators/owner/role', { role: 'admin' }),
    ]);
    // The loser is refused either way: SK_ERR_LAST_OWNER when both requests were authenticated as
    // owners before the first change committed (the usual case), SK_ERR_ROLE_ESCALATION when the
    // loser's request was authenticated after it, already as an admin.
    const statuses = [a.status, b.status].sort();
    assert.equal(statuses[0], 200, `${a.raw} ${b.raw}`);
    const loser = a.status === 200 ? b : a;
    assert.deepEqual([loser.status, codeOf(loser)], loser.status === 409 ? [409, 'SK_ERR_LAST_OWNER'] : [403, 'SK_ERR_ROLE_ESCALATION'], loser.raw);
    const owners = ((await v.call(v.operator, 'GET', '/v1/operators')).body as { operators: Array<{ role: string }> }).operators.filter((o) => o.role === 'owner');
    assert.equal(owners.length, 1);
    await v.close();
  });

  test('a revoked key is refused on the very next request, though the identity cache held it', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    const ada = await join(v, v.operator, 'ada', 'admin');
    for (let i = 0; i < 3; i++) assert.equal((await v.call(ada, 'GET', '/v1/projects')).status, 200);
    const revoked = await v.call(v.operator, 'POST', `/v1/operators/ada/keys/${ada.keyId}/revoke`);
    assert.equal(revoked.status, 200, revoked.raw);
    const after = await v.call(ada, 'GET', '/v1/projects');
    assert.deepEqual([after.status, codeOf(after)], [401, 'SK_ERR_KEY_REVOKED']);
    // A disabled operator likewise, and enabled again.
    const vic = await join(v, v.operator, 'vic', 'viewer');
    assert.equal((await v.call(vic, 'GET', '/v1/projects')).status, 200);
    assert.equal((await v.call(v.operator, 'POST', '/v1/operators/vic/disable')).status, 200);
    assert.deepEqual(codeOf(await v.call(vic, 'GET', '/v1/projects')), 'SK_ERR_FORBIDDEN');
    assert.equal((await v.call(v.operator, 'POST', '/v1/operators/vic/enable')).status, 200);
    assert.equal((await v.call(vic, 'GET', '/v1/projects')).status, 200);
    await v.close();
  });

  test('a key is never registered twice: not a machine\'s, not another operator\'s, not a revoked one', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    const machineKey = await v.addMachine('app1');
    const addAsOperator = await v.call(v.operator, 'POST', '/v1/operators', { name: 'm', publicKey: b64(machineKey), role: 'viewer' });
    assert.deepEqual([addAsOperator.status, codeOf(addAsOperator)], [409, 'SK_ERR_CONFLICT']);
    const asMachine = await v.call(v.operator, 'POST', '/v1/machines', { name: 'm2', publicKey: b64(v.operator), labels: [] });
    assert.deepEqual([asMachine.status, codeOf(asMachine)], [409, 'SK_ERR_CONFLICT']);
    const ada = await join(v, v.operator, 'ada', 'admin');
    assert.equal((await v.call(v.operator, 'POST', `/v1/operators/ada/keys/${ada.keyId}/revoke`)).status, 200);
    const inv = await v.call(v.operator, 'POST', '/v1/operator-invitations', { name: 'ada', existing: true });
    const reuse = await v.call(ada, 'POST', '/v1/operator-invitations/accept', { token: (inv.body as { token: string }).token, publicKey: b64(ada) });
    assert.deepEqual([reuse.status, codeOf(reuse)], [409, 'SK_ERR_CONFLICT']);
    // The refused acceptance used nothing up: a fresh key takes the same invitation.
    const fresh = generateIdentityKey();
    const ok = await v.call(fresh, 'POST', '/v1/operator-invitations/accept', { token: (inv.body as { token: string }).token, publicKey: b64(fresh) });
    assert.equal(ok.status, 201, ok.raw);
    await v.close();
  });

  test('an invitation link names the configured authority the request was signed for, never a Host header outside the list', async () => {
    const v = await startTestVault(await s.open());
    try {
      const inv = await v.call(v.operator, 'POST', '/v1/operator-invitations', { name: 'linked', role: 'viewer' }, { headers: { host: 'attacker.example' } });
      assert.equal(inv.status, 201, inv.raw);
      const url = new URL((inv.body as { url: string }).url);
      assert.equal(url.host, TEST_AUTHORITY);
    } finally {
      await v.close();
    }
  });

  test('invitations: signed by another key, expired, revoked, a taken name, bad input — each refused with its code', async () => {
    let now = Date.now();
    const v = await startTestVault(await s.openAt(await s.freshLocation()), { now: () => now });
    const inv = await v.call(v.operator, 'POST', '/v1/operator-invitations', { name: 'ada', role: 'admin', expiresIn: '1h' });
    const token = (inv.body as { token: string }).token;
    const key = generateIdentityKey();
    const other = generateIdentityKey();
    // Proof of possession: signed by a key other than the one registered.
    const forged = await v.call(other, 'POST', '/v1/operator-invitations/accept', { token, publicKey: b64(key) });
    assert.deepEqual([forged.status, codeOf(forged)], [401, 'SK_ERR_SIGNATURE_UNKNOWN_KEY']);
    const taken = await v.call(v.operator, 'POST', '/v1/operator-invitations', { name: 'ada', role: 'viewer' });
    assert.deepEqual([taken.status, codeOf(taken)], [409, 'SK_ERR_CONFLICT']);
    const exists = await v.call(v.operator, 'POST', '/v1/operator-invitations', { name: 'owner', role: 'viewer' });
    assert.deepEqual([exists.status, codeOf(exists)], [409, 'SK_ERR_CONFLICT']);
    for (const body of [{ name: 'x' }, { name: 'x', role: 'root' }, { name: 'x', role: 'viewer', existing: true }, { name: 'x', role: 'viewer', expiresIn: '90d' }, { name: '../x', role: 'viewer' }]) {
      const bad = await v.call(v.operator, 'POST', '/v1/operator-invitations', body);
      assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.raw}`);
      assert.match(codeOf(bad) ?? '', /^SK_ERR_(VALIDATION|BAD_REQUEST)$/);
    }
    const unknown = await v.call(key, 'POST', '/v1/operator-invitations/accept', { token: 'skinv_nope', publicKey: b64(key) });
    assert.deepEqual([unknown.status, codeOf(unknown)], [401, 'SK_ERR_INVITATION_INVALID']);
    now += 2 * 3600_000;
    const expired = await v.call(key, 'POST', '/v1/operator-invitations/accept', { token, publicKey: b64(key) });
    assert.deepEqual([expired.status, codeOf(expired)], [401, 'SK_ERR_INVITATION_INVALID']);
    const list = await v.call(v.operator, 'GET', '/v1/operator-invitations');
    assert.deepEqual((list.body as { invitations: Array<{ name: string; status: string }> }).invitations.map((i) => [i.name, i.status]), [['ada', 'expired']]);
    // The token never appears in a listing, a log line or the audit trail.
    const audit = await v.call(v.operator, 'GET', '/v1/audit');
    for (const text of [list.raw, audit.raw, v.logs.join('')]) assert.equal(text.includes(token), false);
    await v.close();
  });

  test('rotate-key needs the new key\'s proof; afterwards the old key is refused and the new one signs', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    const next = generateIdentityKey();
    const wrongProof = sign(null, rotationProofMessage(v.operator.keyId, next.keyId), generateIdentityKey().privateKey).toString('base64');
    const refused = await v.call(v.operator, 'POST', '/v1/operator-keys/rotate', { publicKey: b64(next), proof: wrongProof });
    assert.deepEqual([refused.status, codeOf(refused)], [401, 'SK_ERR_SIGNATURE_INVALID']);
    assert.equal((await v.call(v.operator, 'GET', '/v1/projects')).status, 200, 'a refused rotation changes nothing');
    const proof = sign(null, rotationProofMessage(v.operator.keyId, next.keyId), next.privateKey).toString('base64');
    const rotated = await v.call(v.operator, 'POST', '/v1/operator-keys/rotate', { publicKey: b64(next), proof });
    assert.equal(rotated.status, 200, rotated.raw);
    assert.equal(codeOf(await v.call(v.operator, 'GET', '/v1/projects')), 'SK_ERR_KEY_REVOKED');
    assert.equal((await v.call(next, 'GET', '/v1/projects')).status, 200);
    const keys = await v.call(next, 'GET', '/v1/operators/owner/keys');
    const rows = (keys.body as { keys: Array<{ label: string; revokedAt: number | null; lastUsedAt: number | null }> }).keys;
    assert.deepEqual(rows.map((k) => [k.label, k.revokedAt === null]), [['initial', false], ['initial', true]]);
    await v.close();
  });
});

// `sikkerkey ai-agent …` and `sikkerkey rotation approve` against a served vault (SQLite). The
// operator CLI signs with whatever key it is given, so an AI agent's key drives the same commands
// within its scopes: its `rotation set` is stored paused until an operator approves it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => vault?.close());

test('ai-agent create/list/disable/enable/revoke, an AI agent\'s rotation set waiting for `rotation approve`', async () => {
  vault = await startVaultProcess();
  const { url, opKey, dir } = vault;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await runBin('sikkerkey', [...args, '--json'], { env }));
  const aiKey = join(dir, 'bot.key');
  const aiEnv = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: aiKey };
  const asAi = (...args: string[]) => runBin('sikkerkey', args, { env: aiEnv });

  const made = await sk<{ publicKey: string; keyId: string }>('keygen', '--out', aiKey);
  const created = await sk<{ id: string; keyId: string; name: string; scopes: string[] }>('ai-agent', 'create', 'bot', '--public-key', made.publicKey,
    '--scopes', 'projects:read,secrets:write,rotations:write,rotations:read', '--allow-cidr', '127.0.0.0/8', '--rate-limit', '1000');
  assert.deepEqual(Object.keys(created).sort(), ['id', 'keyId', 'name', 'scopes']);
  assert.equal(created.keyId, made.keyId);
  assert.deepEqual(created.scopes, ['projects:read', 'secrets:write', 'rotations:read', 'rotations:write']);
  const unknown = await runBin('sikkerkey', ['ai-agent', 'create', 'bot2', '--public-key', made.publicKey, '--scopes', 'secrets:read-values'], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^error SK_ERR_SCOPE_UNKNOWN: /);
  const human = await runBin('sikkerkey', ['ai-agent', 'list'], { env });
  assert.match(human.stdout, /^NAME\s+STATUS\s+KEY ID\s+SCOPES\s+FROM\s+RATE\/MIN\nbot\s+active\s/);

  await sk('project', 'create', 'shop');
  const db = { host: 'db.internal', port: '5432', username: 'app', password: 'pw-1', database: 'shop' };
  await sk('secret', 'set', 'shop', 'admin', '--fields-json', JSON.stringify({ ...db, username: 'admin', password: 'admin-pw' }));
  await sk('machine', 'add', 'agent1', '--public-key', (await sk<{ publicKey: string }>('keygen', '--out', join(dir, 'agent1.key'))).publicKey);
  // The AI agent writes a target of its own and sets a policy on it.
  const wrote = await asAi('secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(db), '--json');
  assert.equal(wrote.code, 0, wrote.stderr);
  const set = await asAi('rotation', 'set', 'shop', 'db', '--provider', 'postgres', '--agent', 'agent1', '--admin-secret', 'admin');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /saved \(paused until an operator runs `rotation approve`\)/);
  const run = await asAi('rotation', 'run', 'shop', 'db');
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /^error SK_ERR_SCOPE_MISSING: /, 'it holds no rotations:trigger');
  const ownRun = await runBin('sikkerkey', ['rotation', 'run', 'shop', 'db'], { env });
  assert.match(ownRun.stderr, /^error SK_ERR_ROTATION_AWAITING_APPROVAL: .*sikkerkey rotation approve shop db/);
  const rewrite = await asAi('secret', 'set', 'shop', 'admin', '--fields-json', JSON.stringify({ ...db, host: 'attacker.example' }));
  assert.match(rewrite.stderr, /^error SK_ERR_AI_AGENT_SECRET_IN_USE: /);
  const approveAsAi = await asAi('rotation', 'approve', 'shop', 'db');
  assert.match(approveAsAi.stderr, /^error SK_ERR_SIGNATURE_UNKNOWN_KEY: /);

  const approved = await runBin('sikkerkey', ['rotation', 'approve', 'shop', 'db'], { env });
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /approved \(the change by AI agent bot\); enabled/);
  assert.match(approved.stdout, /shop\/db last written by ai_agent:bot; admin secret admin last written by operator:owner/);
  const status = await sk<{ enabled: boolean; pausedReason: string | null }>('rotation', 'status', 'shop', 'db');
  assert.deepEqual([status.enabled, status.pausedReason], [true, null]);

  for (const [verb, state] of [['disable', 'disabled'], ['enable', 'active'], ['revoke', 'revoked']] as const) {
    const r = await sk<{ status: string }>('ai-agent', verb, 'bot');
    assert.equal(r.status, state);
  }
  const gone = await asAi('project', 'list');
  assert.match(gone.stderr, /^error SK_ERR_AI_AGENT_REVOKED: /);
});

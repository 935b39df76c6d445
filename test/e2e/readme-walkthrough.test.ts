// The README's walkthrough, command for command, against real processes: init a vault on SQLite,
// serve it, create a project and a structured secret, add a machine by public key, grant one
// field, and read it with `sikkerkey-agent get`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-walkthrough-'));
let vault: RunningProcess | undefined;
after(async () => {
  await vault?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a new user stands up a vault and a machine reads exactly the field it was granted', async () => {
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ keyId: string; publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));

  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string; operatorKeyId: string }>(
    await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  assert.equal(init.operatorKeyId, op.keyId);
  assert.equal(Buffer.from(init.rootKey, 'base64').length, 32);
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey + '\n', { mode: 0o600 });

  vault = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0']);
  const url = (await vault.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1] as string;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };

  jsonOf(await runBin('sikkerkey', ['project', 'create', 'demo', '--json'], { env }));
  const set = jsonOf<{ version: number }>(await runBin('sikkerkey', ['secret', 'set', 'demo', 'db', '--fields-json-stdin', '--json'],
    { env, input: JSON.stringify({ username: 'app', password: 'walkthrough-password-1' }) + '\n' }));
  assert.equal(set.version, 1);

  const mKey = join(dir, 'machine.key');
  const m = jsonOf<{ keyId: string; publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', mKey, '--json']));
  const added = jsonOf<{ id: string; name: string; keyId: string }>(await runBin('sikkerkey', ['machine', 'add', 'app1', '--public-key', m.publicKey, '--json'], { env }));
  assert.equal(added.keyId, m.keyId);
  jsonOf(await runBin('sikkerkey', ['grant', 'add', 'app1', '--project', 'demo', '--secret', 'db', '--fields', 'username', '--json'], { env }));

  const agentEnv = { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: mKey };
  const read = await runBin('sikkerkey-agent', ['get', 'demo', 'db'], { env: agentEnv });
  assert.equal(read.code, 0, read.stderr);
  assert.deepEqual(JSON.parse(read.stdout), { username: 'app' });
  const field = await runBin('sikkerkey-agent', ['get', 'demo', 'db', '--field', 'username'], { env: agentEnv });
  assert.equal(field.stdout, 'app\n');
  const notGranted = await runBin('sikkerkey-agent', ['get', 'demo', 'db', '--field', 'password'], { env: agentEnv });
  assert.notEqual(notGranted.code, 0);
  assert.match(notGranted.stderr, /^error SK_ERR_NOT_FOUND: /);

  // The operator's key cannot read values: the read route looks callers up among machines only.
  const asOperator = await runBin('sikkerkey-agent', ['get', 'demo', 'db'], { env: { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: opKey } });
  assert.notEqual(asOperator.code, 0);
  assert.match(asOperator.stderr, /^error SK_ERR_SIGNATURE_UNKNOWN_KEY: /);

  // An unknown key cannot read either.
  const strangerKey = join(dir, 'stranger.key');
  jsonOf(await runBin('sikkerkey-agent', ['init', '--key-file', strangerKey, '--json']));
  const stranger = await runBin('sikkerkey-agent', ['get', 'demo', 'db'], { env: { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: strangerKey } });
  assert.match(stranger.stderr, /^error SK_ERR_SIGNATURE_UNKNOWN_KEY: /);

  // The reads are in the audit chain, which verifies.
  const verify = jsonOf<{ ok: boolean; events: number }>(await runBin('sikkerkey', ['audit', 'verify', '--json'], { env }));
  assert.equal(verify.ok, true);
  assert.ok(verify.events >= 6, `only ${verify.events} events`);

  // The server logs never carry the secret value.
  assert.equal(vault.output().includes('walkthrough-password-1'), false);
});

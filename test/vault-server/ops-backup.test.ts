// Backups and restores of the SQLite store (issue "Operating the vault server"): a backup taken
// with the CLI while a real vault process takes a burst of writes restores — only into an empty
// directory, only with the right root key — to a vault that serves the same values, verifies its
// audit chain and records `vault.restored` with the backup's head as a signed checkpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { verify } from 'node:crypto';
import { VaultClient } from '../../protocol/client.js';
import { generateIdentityKey, readPrivateKeyFile, publicKeyObject, parsePublicKey } from '../../protocol/keys.js';
import { checkpointMessage } from '../../protocol/audit-checkpoint.js';
import { SIGNATURE_PROFILE } from '../../protocol/signing.js';
import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';
import { generateRootKey } from '../../vault-server/crypto/root-key.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
let restored: RunningProcess | undefined;
after(async () => {
  await restored?.stop('SIGKILL');
  await vault?.close();
});

test('a backup taken during a burst of writes restores to a vault with the same values, a verified chain and vault.restored; wrong key and non-empty directories are refused', { timeout: 180_000 }, async () => {
  vault = await startVaultProcess();
  const v = vault;
  const op = readPrivateKeyFile(v.opKey);
  const client = new VaultClient({ url: v.url, key: { keyId: op.keyId, privateKey: op.privateKey } });
  after(() => client.close());
  await client.request('POST', '/v1/projects', { name: 'shop' });
  const reader = generateIdentityKey();
  await client.request('POST', '/v1/machines', { name: 'reader', publicKey: Buffer.from(reader.publicKey).toString('base64') });
  await client.request('POST', '/v1/grants', { machine: 'reader', project: 'shop' });
  const values = new Map<string, string>();
  const write = async (i: number): Promise<void> => {
    const value = `value-${i}-${'x'.repeat(i % 50)}`;
    await client.request('PUT', `/v1/projects/shop/secrets/s${i}`, { value });
    values.set(`s${i}`, value);
  };
  for (let i = 0; i < 20; i++) await write(i);

  // The burst: writes keep coming while the backup runs.
  let stop = false;
  let next = 20;
  const burst = (async () => { while (!stop) await write(next++); })();
  const backupFile = join(v.dir, 'vault.backup');
  const b = jsonOf<{ out: string; bytes: number; head: { seq: number } }>(await runBin('sikkerkey-vault', ['backup', '--data-dir', join(v.dir, 'data'), '--out', backupFile, '--json']));
  stop = true;
  await burst;
  assert.equal(b.out, backupFile);
  assert.equal(statSync(backupFile).mode & 0o777, 0o600);
  assert.ok(b.head.seq > 20, `the backup's audit head ${b.head.seq}`);
  const again = await runBin('sikkerkey-vault', ['backup', '--data-dir', join(v.dir, 'data'), '--out', backupFile]);
  assert.match(again.stderr, /SK_ERR_USAGE: .* exists: a backup never overwrites a file/);

  // A checkpoint of the original vault's head, taken after the backup: the restore rewinds past it.
  const checkpointFile = join(v.dir, 'head.json');
  writeFileSync(checkpointFile, (await v.sk(['audit', 'head', '--json'])).stdout);
  const rootKeyFile = join(v.dir, 'root.key');
  const checked = jsonOf<{ ok: boolean; rootKey: string; chain: { ok: boolean; events: number } }>(await runBin('sikkerkey-vault', ['check-backup', backupFile, '--root-key-file', rootKeyFile, '--json']));
  assert.deepEqual([checked.ok, checked.rootKey, checked.chain.ok, checked.chain.events], [true, 'opens', true, b.head.seq]);

  const wrongKeyFile = join(v.dir, 'wrong.key');
  writeFileSync(wrongKeyFile, generateRootKey().toString('base64'), { mode: 0o600 });
  const wrongDir = join(v.dir, 'restored-wrong');
  const wrong = await runBin('sikkerkey-vault', ['restore', '--from', backupFile, '--data-dir', wrongDir, '--root-key-file', wrongKeyFile]);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /SK_ERR_ROOT_KEY_WRONG/);
  assert.equal(existsSync(wrongDir), false, 'a refused restore leaves nothing behind');
  const busyDir = join(v.dir, 'busy');
  mkdirSync(busyDir);
  writeFileSync(join(busyDir, 'something'), 'x');
  const busy = await runBin('sikkerkey-vault', ['restore', '--from', backupFile, '--data-dir', busyDir, '--root-key-file', rootKeyFile]);
  assert.match(busy.stderr, /SK_ERR_USAGE: .* is not empty/);
  assert.deepEqual(readdirSync(busyDir), ['something']);

  const newDir = join(v.dir, 'restored');
  const r = jsonOf<{ backupHead: AuditCheckpoint; restoredSeq: number; restoredAt: number }>(await runBin('sikkerkey-vault', ['restore', '--from', backupFile, '--data-dir', newDir, '--root-key-file', rootKeyFile, '--json']));
  assert.equal(r.backupHead.seq, b.head.seq);
  assert.equal(r.restoredSeq, b.head.seq + 1);
  assert.equal(verify(null, checkpointMessage(r.backupHead.seq, r.backupHead.hash, r.backupHead.at), publicKeyObject(parsePublicKey(r.backupHead.publicKey)), Buffer.from(r.backupHead.signature, 'base64')), true);
  assert.equal(statSync(newDir).mode & 0o777, 0o700);

  // The restored vault serves what was written before the backup, value for value.
  restored = startBin('sikkerkey-vault', ['serve', '--data-dir', newDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0', '--workers', '1', '--log-level', 'info']);
  const port = Number((await restored.waitFor(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/))[1]);
  // The restored vault accepts only signatures created more than the clock-skew allowance after
  // the restore (test/vault-server/ops-restore-replay.test.ts): sign nothing before then.
  await sleep(Math.max(0, r.restoredAt + (SIGNATURE_PROFILE.maxSkewSeconds + 1) * 1000 - Date.now()));
  const env = { SIKKERKEY_URL: `http://127.0.0.1:${port}`, SIKKERKEY_KEY_FILE: v.opKey };
  const listed = jsonOf<{ secrets: Array<{ name: string }> }>(await runBin('sikkerkey', ['secret', 'list', 'shop', '--json'], { env }));
  assert.ok(listed.secrets.length >= 20 && listed.secrets.length <= values.size, `${listed.secrets.length} secrets restored of ${values.size} written`);
  const rc = new VaultClient({ url: `http://127.0.0.1:${port}`, key: { keyId: reader.keyId, privateKey: reader.privateKey } });
  after(() => rc.close());
  for (const s of listed.secrets) assert.equal((await rc.getSecret('shop', s.name)).value, values.get(s.name), s.name);
  const verified = jsonOf<{ ok: boolean }>(await runBin('sikkerkey', ['audit', 'verify', '--json'], { env }));
  assert.equal(verified.ok, true);
  const events = jsonOf<{ events: Array<{ action: string; details: { backupHead?: { seq: number } } }> }>(await runBin('sikkerkey', ['audit', 'list', '--action', 'vault.restored', '--all', '--json'], { env })).events;
  const restoredEvents = events.filter((e) => e.action === 'vault.restored');
  // The rewind past the checkpoint is explained by the audited restore, not reported as tampering.
  const withCp = await runBin('sikkerkey', ['audit', 'verify', '--checkpoint', checkpointFile, '--json'], { env });
  assert.equal(withCp.code, 0, withCp.stdout + withCp.stderr);
  const cpResult = (JSON.parse(withCp.stdout) as { checkpoint: { ok: boolean; restore?: { backupHeadSeq: number; restoredSeq: number } } }).checkpoint;
  assert.deepEqual([cpResult.ok, cpResult.restore?.backupHeadSeq, cpResult.restore?.restoredSeq], [true, b.head.seq, b.head.seq + 1]);
  const human = await runBin('sikkerkey', ['audit', 'verify', '--checkpoint', checkpointFile], { env });
  assert.match(human.stdout, /replaced by an audited restore \(vault\.restored, event \d+/);
  assert.deepEqual(restoredEvents.map((e) => e.details.backupHead?.seq), [b.head.seq], JSON.stringify(events.slice(0, 3)));
});

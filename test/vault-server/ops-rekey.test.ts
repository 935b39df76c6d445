// Root-key rotation (issue "Operating the vault server"): `sikkerkey-vault rekey` killed (kill -9)
// at each of its steps and re-run leaves a store that opens with exactly one of the two keys at
// every moment, and finally every secret readable with the new key and none with the old; the
// audit chain still verifies and records each rekey; webhook signing secrets survive it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VaultClient } from '../../protocol/client.js';
import { generateIdentityKey, readPrivateKeyFile } from '../../protocol/keys.js';
import { generateRootKey } from '../../vault-server/crypto/root-key.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { openVault } from '../../vault-server/vault-state.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => { await vault?.close(); });

test('rekey killed after opening, before and after its commit, then re-run: one key opens the store at every moment; afterwards only the new one, with every value readable and the chain verified', { timeout: 240_000 }, async () => {
  vault = await startVaultProcess({ args: ['--webhook-allow-cidr', '127.0.0.1/32'] });
  const v = vault;
  const op = readPrivateKeyFile(v.opKey);
  const client = new VaultClient({ url: v.url, key: { keyId: op.keyId, privateKey: op.privateKey } });
  const reader = generateIdentityKey();
  const values = new Map<string, string>();
  for (const project of ['shop', 'billing']) {
    await client.request('POST', '/v1/projects', { name: project });
    for (let i = 0; i < 3; i++) {
      const value = `${project}-value-${i}`;
      await client.request('PUT', `/v1/projects/${project}/secrets/s${i}`, { value });
      values.set(`${project}/s${i}`, value);
    }
  }
  await client.request('POST', '/v1/machines', { name: 'reader', publicKey: Buffer.from(reader.publicKey).toString('base64') });
  for (const project of ['shop', 'billing']) await client.request('POST', '/v1/grants', { machine: 'reader', project });
  await client.request('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['all'] });
  client.close();
  await v.proc.stop();

  const dataDir = join(v.dir, 'data');
  const keyFiles = [join(v.dir, 'root.key')];
  const opensWith = async (file: string): Promise<boolean> => {
    const store = await openStore({ dataDir }, { migrate: false });
    try {
      await openVault(store, Buffer.from((await import('node:fs')).readFileSync(file, 'utf8').trim(), 'base64'));
      return true;
    } catch {
      return false;
    } finally {
      await store.close();
    }
  };
  for (const point of ['rekey-after-open', 'rekey-before-commit', 'rekey-after-commit']) {
    const oldFile = keyFiles.at(-1) as string;
    const newFile = join(v.dir, `root-${keyFiles.length}.key`);
    writeFileSync(newFile, generateRootKey().toString('base64'), { mode: 0o600 });
    keyFiles.push(newFile);
    const args = ['rekey', '--data-dir', dataDir, '--root-key-file', oldFile, '--new-root-key-file', newFile, '--json'];
    const killed = startBin('sikkerkey-vault', args, { env: { SIKKERKEY_FAULT_PAUSE_AT: point } });
    await killed.waitFor(new RegExp(`fault point reached: ${point}`));
    await killed.stop('SIGKILL');
    const [oldOpens, newOpens] = [await opensWith(oldFile), await opensWith(newFile)];
    assert.equal(oldOpens !== newOpens, true, `${point}: exactly one key opens the store (old ${oldOpens}, new ${newOpens})`);
    assert.equal(newOpens, point === 'rekey-after-commit', `${point}: the new key opens it only once the transaction committed`);
    const rerun = jsonOf<{ result: string; fingerprint: string; previousFingerprint: string }>(await runBin('sikkerkey-vault', args));
    assert.equal(rerun.result, point === 'rekey-after-commit' ? 'already-rekeyed' : 'rekeyed', point);
    assert.notEqual(rerun.fingerprint, rerun.previousFingerprint);
    assert.deepEqual([await opensWith(oldFile), await opensWith(newFile)], [false, true], `${point}: after the re-run only the new key opens it`);
  }

  // Every old key is refused at start; the newest serves every value, and the chain verifies.
  const newest = keyFiles.at(-1) as string;
  for (const old of keyFiles.slice(0, -1)) {
    const refused = await runBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', old, '--listen', '127.0.0.1:0', '--workers', '1'], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /SK_ERR_ROOT_KEY_WRONG/);
  }
  writeFileSync(join(v.dir, 'root.key'), (await import('node:fs')).readFileSync(newest));
  await v.restart();
  const rc = new VaultClient({ url: v.url, key: { keyId: reader.keyId, privateKey: reader.privateKey } });
  after(() => rc.close());
  for (const [path, value] of values) {
    const [project, name] = path.split('/') as [string, string];
    assert.equal((await rc.getSecret(project, name)).value, value, path);
  }
  assert.equal(jsonOf<{ ok: boolean }>(await v.sk(['audit', 'verify', '--json'])).ok, true);
  const events = jsonOf<{ events: Array<{ action: string }> }>(await v.sk(['audit', 'list', '--action', 'vault.rekeyed', '--all', '--json'])).events;
  assert.equal(events.filter((e) => e.action === 'vault.rekeyed').length, 3);
  // The webhook's signing secret was re-sealed too: the service opens it to sign a test event.
  const hooks = jsonOf<{ webhooks: Array<{ id: string }> }>(await v.sk(['webhook', 'list', '--json'])).webhooks;
  const rotated = await v.sk(['webhook', 'rotate-secret', hooks[0]?.id ?? '', '--json']);
  assert.equal(rotated.code, 0, rotated.stderr);
});

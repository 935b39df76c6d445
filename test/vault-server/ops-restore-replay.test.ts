// A restore brings the nonce table back as it was at backup time: a request signed after the
// backup and captured, still inside its validity window, would be served again by the restored
// vault. The restore records when it finished (vault_meta.restored_at) and every worker of the
// restored vault refuses signatures made before that moment — and for the clock-skew allowance
// after it, since a signer's clock may run that far ahead — while later ones are served.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signRequest, SIGNATURE_PROFILE } from '../../protocol/signing.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
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

interface Sent { status: number; body: string }

/** Sends exactly these headers and body to 127.0.0.1:port (a captured request is sent again byte for byte). */
function send(port: number, method: string, path: string, headers: Record<string, string>, payload?: Buffer): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('a request signed after the backup and captured is refused by the restored vault; one signed after the restore is served', { timeout: 180_000 }, async () => {
  vault = await startVaultProcess();
  const v = vault;
  const port = v.port;
  const op = readPrivateKeyFile(v.opKey);
  const key = { keyId: op.keyId, privateKey: op.privateKey };
  const signed = (method: string, path: string, body?: unknown): { headers: Record<string, string>; payload: Buffer | undefined } => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    // The longest lifetime the profile allows: the captured request is still fresh when replayed.
    const headers = signRequest({ method, authority: `127.0.0.1:${port}`, target: path, body: payload, contentType: payload ? 'application/json' : undefined }, key,
      { lifetimeSeconds: SIGNATURE_PROFILE.maxLifetimeSeconds });
    return { headers, payload };
  };
  const projects = async (): Promise<string[]> => {
    const { headers } = signed('GET', '/v1/projects');
    const r = await send(port, 'GET', '/v1/projects', headers);
    assert.equal(r.status, 200, r.body);
    return (JSON.parse(r.body) as { projects: Array<{ name: string }> }).projects.map((p) => p.name).sort();
  };
  const first = signed('POST', '/v1/projects', { name: 'before-backup' });
  assert.equal((await send(port, 'POST', '/v1/projects', first.headers, first.payload)).status, 201);

  const backupFile = join(v.dir, 'vault.backup');
  jsonOf(await runBin('sikkerkey-vault', ['backup', '--data-dir', join(v.dir, 'data'), '--out', backupFile, '--json']));

  // Signed after the backup, served by the live vault, and captured on the way.
  const captured = signed('POST', '/v1/projects', { name: 'after-backup' });
  const served = await send(port, 'POST', '/v1/projects', captured.headers, captured.payload);
  assert.equal(served.status, 201, served.body);
  const replayedLive = await send(port, 'POST', '/v1/projects', captured.headers, captured.payload);
  assert.equal(replayedLive.status, 401);
  assert.equal((JSON.parse(replayedLive.body) as { error: { code: string } }).error.code, 'SK_ERR_SIGNATURE_REPLAYED', 'the live vault knows the nonce');

  // Stop the vault, restore the backup, and serve the restored store on the same address (two workers).
  await v.proc.stop('SIGTERM');
  const newDir = join(v.dir, 'restored');
  const r = jsonOf<{ restoredAt: number }>(await runBin('sikkerkey-vault', ['restore', '--from', backupFile, '--data-dir', newDir, '--root-key-file', join(v.dir, 'root.key'), '--json']));
  assert.ok(Number.isSafeInteger(r.restoredAt) && Math.abs(r.restoredAt - Date.now()) < 60_000, `restoredAt ${r.restoredAt}`);
  restored = startBin('sikkerkey-vault', ['serve', '--data-dir', newDir, '--root-key-file', join(v.dir, 'root.key'), '--listen', `127.0.0.1:${port}`, '--workers', '2', '--log-level', 'info']);
  await restored.waitFor(/"url":"http:\/\/127\.0\.0\.1:\d+"/);

  // The captured request is still inside its validity window, and its nonce is not in the restored store.
  const capturedCreated = Number(/;created=(\d+)/.exec(captured.headers['signature-input'] ?? '')?.[1]);
  assert.ok((capturedCreated + SIGNATURE_PROFILE.maxLifetimeSeconds + SIGNATURE_PROFILE.maxSkewSeconds) * 1000 > Date.now() + 1000, 'the replay is within the window');
  for (let i = 0; i < 4; i++) { // both workers refuse it
    const replayed = await send(port, 'POST', '/v1/projects', captured.headers, captured.payload);
    assert.equal(replayed.status, 401, replayed.body);
    const error = (JSON.parse(replayed.body) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'SK_ERR_SIGNATURE_EXPIRED');
    assert.match(error.message, /restored from a backup/);
  }

  // A client clock may run 30 s ahead: what is signed within 30 s of the restore is refused too.
  const early = signed('GET', '/v1/projects');
  if ((Number(/;created=(\d+)/.exec(early.headers['signature-input'] ?? '')?.[1]) * 1000) <= r.restoredAt + SIGNATURE_PROFILE.maxSkewSeconds * 1000) {
    const refused = await send(port, 'GET', '/v1/projects', early.headers);
    assert.equal(refused.status, 401, refused.body);
  }

  // Signed more than the skew allowance after the restore: served.
  await sleep(Math.max(0, r.restoredAt + (SIGNATURE_PROFILE.maxSkewSeconds + 1) * 1000 - Date.now()));
  const fresh = signed('POST', '/v1/projects', { name: 'after-restore' });
  const freshAnswer = await send(port, 'POST', '/v1/projects', fresh.headers, fresh.payload);
  assert.equal(freshAnswer.status, 201, freshAnswer.body);
  assert.deepEqual(await projects(), ['after-restore', 'before-backup'], 'the captured request never ran against the restored vault');
});

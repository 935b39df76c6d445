// Root-key rotation without downtime (issue "Operating the vault server"): a real vault serving
// with the old and the new key (`--root-key-file` twice) while `sikkerkey-vault rekey` runs in
// another process; a machine reads throughout and not one read fails; a project created after the
// rekey is sealed under the new key; SIGHUP with only the new key in the files drops the old one
// (and one whose files open nothing is refused, the vault keeping its keys); a restart with the new
// key alone serves, with the old alone is refused. SQLite (one process) and PostgreSQL (two
// workers, each reloading on its own).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaultClient } from '../../protocol/client.js';
import { generateIdentityKey, readPrivateKeyFile } from '../../protocol/keys.js';
import { generateRootKey } from '../../vault-server/crypto/root-key.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { openVault } from '../../vault-server/vault-state.js';
import { childPids, jsonOf, runBin } from '../support/processes.js';
import { tempPgDatabase } from '../support/stores.js';
import { startVaultProcess } from '../support/vault-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const count = (text: string, re: RegExp): number => text.match(new RegExp(re.source, 'g'))?.length ?? 0;

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: rekey while the vault serves with both keys, 0 failed reads; SIGHUP drops the old key (a SIGHUP opening nothing is refused); restart with the new key only`, { timeout: 180_000 }, async () => {
    const pg = dialect === 'postgres' ? await tempPgDatabase() : undefined;
    if (pg) cleanups.push(pg.remove);
    const workers = dialect === 'postgres' ? 2 : 1;
    const keysDir = mkdtempSync(join(tmpdir(), 'sk-rekey-live-'));
    cleanups.push(() => rmSync(keysDir, { recursive: true, force: true }));
    const nextFile = join(keysDir, 'root-key.next');
    writeFileSync(nextFile, generateRootKey().toString('base64'), { mode: 0o600 });
    const v = await startVaultProcess({ ...(pg ? { databaseUrl: pg.location.databaseUrl } : {}), args: ['--root-key-file', nextFile, '--workers', String(workers)] });
    cleanups.push(() => v.close());
    const oldFile = join(v.dir, 'root.key');
    const oldKey = readFileSync(oldFile, 'utf8');
    const newKey = readFileSync(nextFile, 'utf8');
    const storeArgs = pg ? ['--database-url', pg.location.databaseUrl] : ['--data-dir', join(v.dir, 'data')];

    const op = readPrivateKeyFile(v.opKey);
    const client = new VaultClient({ url: v.url, key: { keyId: op.keyId, privateKey: op.privateKey } });
    cleanups.push(() => client.close());
    const reader = generateIdentityKey();
    await client.request('POST', '/v1/projects', { name: 'shop' });
    await client.request('PUT', '/v1/projects/shop/secrets/db', { value: 'before-rekey' });
    await client.request('POST', '/v1/machines', { name: 'reader', publicKey: Buffer.from(reader.publicKey).toString('base64') });
    await client.request('POST', '/v1/grants', { machine: 'reader', project: 'shop' });
    const untilLogged = async (re: RegExp, n: number): Promise<void> => {
      // Bounded only so a broken run fails with the output rather than hangs (not a timing assertion).
      for (let i = 0; count(v.proc.output(), re) < n; i++) {
        if (i > 1200) assert.fail(`never logged ${n}× ${re}: ${v.proc.output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const rc = new VaultClient({ url: v.url, key: { keyId: reader.keyId, privateKey: reader.privateKey } });
    cleanups.push(() => rc.close());

    // A reader that never stops until told to: every failure is kept.
    let reading = true;
    let reads = 0;
    const failures: string[] = [];
    const loop = (async () => {
      while (reading) {
        try {
          const { value } = await rc.getSecret('shop', 'db');
          if (value !== 'before-rekey') failures.push(`read ${value}`);
          reads++;
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
        }
      }
    })();
    const readsBefore = async (n: number): Promise<void> => {
      const target = reads + n;
      while (reads < target && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    };
    await readsBefore(5);
    const rekey = await runBin('sikkerkey-vault', ['rekey', ...storeArgs, '--root-key-file', oldFile, '--new-root-key-file', nextFile, '--json']);
    assert.equal(rekey.code, 0, rekey.stderr);
    assert.equal(jsonOf<{ result: string }>(rekey).result, 'rekeyed');
    await readsBefore(20);

    // Created after the rekey: sealed under the key the store now records, the new one.
    await client.request('POST', '/v1/projects', { name: 'after' });
    await client.request('PUT', '/v1/projects/after/secrets/token', { value: 'after-rekey' });
    await client.request('POST', '/v1/grants', { machine: 'reader', project: 'after' });

    // A SIGHUP whose files open nothing (an unrelated key in both): refused, the keys held stay.
    const stranger = generateRootKey().toString('base64');
    writeFileSync(oldFile, stranger);
    writeFileSync(nextFile, stranger);
    process.kill(v.proc.proc.pid as number, 'SIGHUP');
    await untilLogged(/"code":"SK_ERR_ROOT_KEY_WRONG"[^\n]*root keys NOT reloaded/, workers);
    await readsBefore(10);
    assert.equal((await rc.getSecret('after', 'token')).value, 'after-rekey');

    // Only the new key left in the files: SIGHUP drops the old one, and everything still reads.
    writeFileSync(oldFile, newKey);
    writeFileSync(nextFile, newKey);
    process.kill(v.proc.proc.pid as number, 'SIGHUP');
    await untilLogged(/"dropped":\["[0-9a-f]{16}"\][^\n]*root keys reloaded/, workers);
    await readsBefore(20);
    reading = false;
    await loop;
    console.log(`# ${dialect}: ${reads} reads during the rekey and both SIGHUPs, ${failures.length} failed`);
    assert.deepEqual(failures, [], `${failures.length} of ${reads + failures.length} reads failed`);
    assert.ok(reads >= 55, `the reader read throughout (${reads} reads)`);
    assert.equal((await rc.getSecret('after', 'token')).value, 'after-rekey');
    assert.equal(count(v.proc.output(), /root keys reloaded/), workers);
    if (workers > 1) {
      // A worker that dies now is restarted with the keys the primary re-read: the new one alone.
      const [one, two] = [count(v.proc.output(), /"msg":"root key held"/), count(v.proc.output(), /"msg":"root keys held/)];
      process.kill(childPids(v.proc.proc.pid as number)[0] ?? assert.fail('no worker'), 'SIGKILL');
      await untilLogged(/worker restarted and listening/, 1);
      await untilLogged(/"msg":"(root key held|root keys held)/, one + two + 1);
      assert.equal(count(v.proc.output(), /"msg":"root key held"/), one + 1, 'the restarted worker holds the new key alone');
      assert.equal((await rc.getSecret('after', 'token')).value, 'after-rekey');
    }

    // Both reloads are audited (one event per process), and the chain verifies.
    const events = jsonOf<{ events: Array<{ action: string; outcome: string; details: { dropped?: string[]; code?: string } }> }>(
      await v.sk(['audit', 'list', '--action', 'vault.root_keys_reloaded', '--all', '--json'])).events;
    assert.equal(events.length, workers);
    assert.equal(events[0]?.details.dropped?.length, 1);
    const refused = jsonOf<{ events: Array<{ details: { code?: string } }> }>(
      await v.sk(['audit', 'list', '--action', 'vault.root_keys_reload_refused', '--all', '--json'])).events;
    assert.equal(refused.length, workers);
    assert.equal(refused[0]?.details.code, 'SK_ERR_ROOT_KEY_WRONG');
    assert.equal(jsonOf<{ ok: boolean }>(await v.sk(['audit', 'verify', '--json'])).ok, true);

    // The store opens with the new key alone: nothing is left sealed under the old one.
    await v.proc.stop();
    const store = await openStore(pg ? pg.location : { dataDir: join(v.dir, 'data') }, { migrate: false });
    try {
      await assert.rejects(openVault(store, Buffer.from(oldKey, 'base64')), /SK_ERR_ROOT_KEY_WRONG|does not match/);
      await openVault(store, Buffer.from(newKey, 'base64'));
    } finally {
      await store.close();
    }
    writeFileSync(nextFile, oldKey);
    const refusedStart = await runBin('sikkerkey-vault', ['serve', ...storeArgs, '--root-key-file', nextFile, '--listen', '127.0.0.1:0', '--workers', '1'], { timeoutMs: 30_000 });
    assert.notEqual(refusedStart.code, 0);
    assert.match(refusedStart.stderr, /SK_ERR_ROOT_KEY_WRONG/);
    await v.restart({ args: ['--workers', String(workers)] });
    const fresh = new VaultClient({ url: v.url, key: { keyId: reader.keyId, privateKey: reader.privateKey } });
    cleanups.push(() => fresh.close());
    assert.equal((await fresh.getSecret('shop', 'db')).value, 'before-rekey');
    assert.equal((await fresh.getSecret('after', 'token')).value, 'after-rekey');
  });
}

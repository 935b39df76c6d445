// The offline cache (issue 26), with a real vault process that is then killed: `exec` started
// while the vault is down runs the command with the cached value and says so; past cacheMaxAge it
// refuses with SK_ERR_CACHE_STALE and starts nothing. A refusal (4xx) is never answered from the
// cache, and the cache file is 0600 and holds no value in the clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { jsonOf, runBin } from '../support/processes.js';
import type { CliResult } from '../support/processes.js';
import { randomTag } from '../support/services.js';
import { sleep } from '../support/wait.js';

const VALUE = `cached-${randomTag(12)}`;
/** The child is told the value's hash, never the value, on its command line. */
const SHA = createHash('sha256').update(VALUE).digest('hex');
let v: VaultProcess;
let keyFile: string;
let cacheDir: string;
let grantId: string;

before(async () => {
  v = await startVaultProcess();
  const must = async (args: string[]): Promise<void> => { jsonOf(await v.sk([...args, '--json'])); };
  await must(['project', 'create', 'shop']);
  await must(['secret', 'set', 'shop', 'api', '--value', VALUE]);
  keyFile = join(v.dir, 'app.key');
  const pub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', keyFile, '--json']));
  await must(['machine', 'add', 'app1', '--public-key', pub.publicKey]);
  grantId = jsonOf<{ id: string }>(await v.sk(['grant', 'add', 'app1', '--project', 'shop', '--secret', 'api', '--json'])).id;
  cacheDir = join(v.dir, 'cache');
});

after(async () => {
  await v?.close();
});

/** exec --once with a config naming the cache; the child prints whether it saw the value. */
function execOnce(maxAge: string): Promise<CliResult> {
  const config = join(v.dir, `agent-${maxAge}.json`);
  writeFileSync(config, JSON.stringify({ vaultUrl: v.url, keyFile, cacheDir, cacheMaxAge: maxAge }));
  return runBin('sikkerkey-agent', ['exec', '--config', config, '--once', '--env', 'API_KEY=shop/api', '--',
    process.execPath, '-e', 'process.stdout.write(require("node:crypto").createHash("sha256").update(process.env.API_KEY ?? "").digest("hex") === process.argv[1] ? "same" : "different")', SHA],
  { timeoutMs: 60_000 });
}

test('with the vault stopped, exec starts from the offline cache and says so; past cacheMaxAge it refuses; refusals are never served from the cache', async () => {
  // 1. Vault up: the read is delivered and cached.
  const online = await execOnce('24h');
  assert.equal(online.code, 0, online.stderr);
  assert.equal(online.stdout, 'same');
  assert.doesNotMatch(online.stderr, /offline cache/);
  const files = readdirSync(cacheDir);
  assert.equal(files.length, 1);
  const cacheFile = join(cacheDir, files[0] as string);
  assert.equal((statSync(cacheFile).mode & 0o777).toString(8), '600');
  assert.equal((statSync(cacheDir).mode & 0o777).toString(8), '700');
  assert.ok(!readFileSync(cacheFile, 'utf8').includes(VALUE) && !readFileSync(cacheFile, 'utf8').includes('shop'), 'the cache holds neither the value nor the secret\'s name in the clear');

  // 2. A refusal (4xx) is final, not a reason to serve the cache: and it ends that entry.
  jsonOf(await v.sk(['grant', 'remove', grantId, '--json']));
  const refused = await execOnce('24h');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error SK_ERR_NO_GRANT/);
  assert.equal(existsSync(cacheFile), false, 'the refused secret\'s entry is gone');
  jsonOf(await v.sk(['grant', 'add', 'app1', '--project', 'shop', '--secret', 'api', '--json']));
  assert.equal((await execOnce('24h')).stdout, 'same');

  // 3. The vault is gone: served from the cache, and said so (without the value).
  await v.proc.stop('SIGKILL');
  const offline = await execOnce('24h');
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout, 'same', 'the child saw the cached value');
  assert.match(offline.stderr, /the vault cannot be reached: shop\/api version 1 served from the offline cache/);
  assert.ok(!offline.stderr.includes(VALUE));

  // 4. Past cacheMaxAge (1 s; the entry is older than that once 1.5 s have passed): refused, nothing started.
  await sleep(1500);
  const stale = await execOnce('1s');
  assert.equal(stale.code, 1, stale.stderr);
  assert.equal(stale.stdout, '', 'the command did not run');
  assert.match(stale.stderr, /error SK_ERR_CACHE_STALE: the vault cannot be reached .* past cacheMaxAge \(1 s\)/);
});

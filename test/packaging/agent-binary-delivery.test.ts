// The delivery commands inside the single executable (dist/bin/sikkerkey-agent): `exec` (with the
// offline cache on) and `render --once` run from the bundle against a real vault, so every module
// they load lazily is proven to be in the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_BINARY_HOOK_TIMEOUT_MS, agentBinary } from '../support/agent-binary.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { jsonOf } from '../support/processes.js';
import { randomTag } from '../support/services.js';

const VALUE = `bin-${randomTag(12)}`;
let bin: string;
let v: VaultProcess;
let keyFile: string;

before(async () => {
  bin = (await agentBinary()).path;
  v = await startVaultProcess();
  const must = async (args: string[]): Promise<{ id?: string }> => jsonOf(await v.sk([...args, '--json']));
  await must(['project', 'create', 'shop']);
  await must(['secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify({ username: 'u', password: VALUE })]);
  keyFile = join(v.dir, 'bin.key');
  const init = spawnSync(bin, ['init', '--key-file', keyFile, '--json'], { encoding: 'utf8' });
  await must(['machine', 'add', 'bin1', '--public-key', (JSON.parse(init.stdout) as { publicKey: string }).publicKey]);
  await must(['grant', 'add', 'bin1', '--project', 'shop', '--secret', 'db']);
}, { timeout: AGENT_BINARY_HOOK_TIMEOUT_MS });

after(async () => {
  await v?.close();
});

test('the executable runs exec (offline cache on) and render --once against a real vault', () => {
  const cacheDir = join(v.dir, 'cache');
  const out = join(v.dir, 'db.json');
  const config = join(v.dir, 'agent.json');
  writeFileSync(config, JSON.stringify({ vaultUrl: v.url, keyFile, cacheDir, templates: [{ destination: out, format: 'json', secrets: { password: 'shop/db#password' } }] }));
  const sha = createHash('sha256').update(VALUE).digest('hex');
  const exec = spawnSync(bin, ['exec', '--config', config, '--once', '--env', 'P=shop/db#password', '--', process.execPath, '-e',
    'process.exit(require("node:crypto").createHash("sha256").update(process.env.P ?? "").digest("hex") === process.argv[1] ? 5 : 6)', sha], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(exec.status, 5, `the child saw the value and its status is the agent's: ${exec.stderr}`);
  assert.equal(readdirSync(cacheDir).length, 1, 'the value was cached');
  const render = spawnSync(bin, ['render', '--config', config, '--once', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(render.status, 0, render.stderr);
  assert.ok((JSON.parse(readFileSync(out, 'utf8')) as { password: string }).password === VALUE, 'the template holds the value');
  const help = spawnSync(bin, ['exec', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /--on-change <action>/);
});

// Import and export from the command line, against real processes on SQLite: `sikkerkey import
// --from-env -` reading a dotenv file on standard input, `sikkerkey-agent get` reading the values
// back (and `--version N` an older one), `sikkerkey export --metadata-only --json`, and the
// refusals that must not echo a value.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => vault?.close());

test('an operator imports a dotenv file from standard input; a machine reads the values, an older version by number, and the export holds no value', async () => {
  vault = await startVaultProcess();
  const { dir } = vault;
  const env = { SIKKERKEY_URL: vault.url, SIKKERKEY_KEY_FILE: vault.opKey };
  const sk = async <T>(args: string[], input?: string): Promise<T> => jsonOf<T>(await runBin('sikkerkey', [...args, '--json'], { env, ...(input !== undefined ? { input } : {}) }));

  await sk(['project', 'create', 'shop']);
  const dotenv = '# shop\nexport DB_URL="postgres://app:p=w#d@db/shop"\nTOKEN=cli-token-value # rotated monthly\nMULTI="cli-line-one\ncli-line-two"\n';
  const imported = await sk<{ created: string[]; skipped: string[]; newVersions: string[] }>(['import', '--project', 'shop', '--from-env', '-'], dotenv);
  assert.deepEqual(imported, { project: 'shop', created: ['DB_URL', 'TOKEN', 'MULTI'], skipped: [], newVersions: [] });

  const again = await runBin('sikkerkey', ['import', '--project', 'shop', '--from-env', '-'], { env, input: 'TOKEN=cli-token-second\n' });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /^error SK_ERR_CONFLICT: .*"TOKEN"/);
  const jsonFile = join(dir, 'import.json');
  writeFileSync(jsonFile, JSON.stringify({ TOKEN: 'cli-token-second' }));
  const versioned = await sk<{ newVersions: string[] }>(['import', '--project', 'shop', '--from-json', jsonFile, '--on-conflict', 'new-version']);
  assert.deepEqual(versioned.newVersions, ['TOKEN']);

  const mKey = join(dir, 'machine.key');
  const m = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', mKey, '--json']));
  await sk(['machine', 'add', 'app1', '--public-key', m.publicKey]);
  await sk(['grant', 'add', 'app1', '--project', 'shop']);
  const agentEnv = { SIKKERKEY_URL: vault.url, SIKKERKEY_AGENT_KEY_FILE: mKey };
  const get = async (...args: string[]): Promise<string> => {
    const r = await runBin('sikkerkey-agent', ['get', 'shop', ...args], { env: agentEnv });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  assert.equal(await get('DB_URL'), 'postgres://app:p=w#d@db/shop\n');
  assert.equal(await get('MULTI'), 'cli-line-one\ncli-line-two\n');
  assert.equal(await get('TOKEN'), 'cli-token-second\n');
  assert.equal(await get('TOKEN', '--version', '1'), 'cli-token-value\n');
  const pinned = JSON.parse(await get('TOKEN', '--version', '1', '--json')) as { version: number };
  assert.equal(pinned.version, 1);
  const missing = await runBin('sikkerkey-agent', ['get', 'shop', 'TOKEN', '--version', '9'], { env: agentEnv });
  assert.match(missing.stderr, /^error SK_ERR_NOT_FOUND: /);
  const badVersion = await runBin('sikkerkey-agent', ['get', 'shop', 'TOKEN', '--version', 'latest'], { env: agentEnv });
  assert.match(badVersion.stderr, /^error SK_ERR_USAGE: /);

  const exported = await sk<{ project: string; grants: Array<{ machine: string }>; secrets: Array<{ name: string; kind: string; version: number }> }>(['export', '--project', 'shop', '--metadata-only']);
  assert.deepEqual(exported.secrets.map((x) => [x.name, x.kind, x.version]), [['DB_URL', 'plain', 1], ['MULTI', 'plain', 1], ['TOKEN', 'plain', 2]]);
  assert.deepEqual(exported.grants.map((g) => g.machine), ['app1']);
  assert.equal(JSON.stringify(exported).includes('cli-'), false, 'no value in the export');
  const noFlag = await runBin('sikkerkey', ['export', '--project', 'shop', '--json'], { env });
  assert.notEqual(noFlag.code, 0);
  assert.match(noFlag.stderr, /^error SK_ERR_USAGE: export only writes metadata; values are read only by machines/);

  const malformed = await runBin('sikkerkey', ['import', '--project', 'shop', '--from-env', '-'], { env, input: 'GOOD=fine\nthis line holds cli-leaked-value\n' });
  assert.notEqual(malformed.code, 0);
  assert.match(malformed.stderr, /^error SK_ERR_USAGE: standard input: line 2: /);
  assert.equal(malformed.stderr.includes('cli-leaked-value'), false, 'a refusal never echoes the file');
  const unclosed = await runBin('sikkerkey', ['import', '--project', 'shop', '--from-env', '-'], { env, input: 'A="cli-open-value\n' });
  assert.match(unclosed.stderr, /^error SK_ERR_USAGE: standard input: line 1: .*never closed/);
  assert.equal(unclosed.stderr.includes('cli-open-value'), false);
  assert.equal(vault.proc.output().includes('cli-token'), false, 'no value in the vault\'s log');
});

// Temp-bootstrap machines with real processes: a single-use token mints one machine that waits
// for `sikkerkey machine approve`, guardrails come with it (the vault started with --geoip-db),
// and its lifetime is extended, listed and reverted with the operator CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { CliResult, RunningProcess } from '../support/processes.js';
import { buildGeoIpDb } from '../support/geoip-db.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-enroll-boot-'));
let vault: RunningProcess | undefined;
let geoip: { path: string; remove: () => Promise<void> } | undefined;
let url = '';
let env: Record<string, string> = {};
let n = 0;

before(async () => {
  geoip = await buildGeoIpDb();
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey + '\n', { mode: 0o600 });
  vault = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0', '--geoip-db', geoip.path]);
  url = (await vault.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1] as string;
  env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  jsonOf(await runBin('sikkerkey', ['project', 'create', 'ops', '--json'], { env }));
  jsonOf(await runBin('sikkerkey', ['secret', 'set', 'ops', 'db', '--fields-json', JSON.stringify({ username: 'ops', password: 'boot-pw-1' }), '--json'], { env }));
});
after(async () => {
  await vault?.stop();
  await geoip?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function bootstrapToken(...args: string[]): Promise<string> {
  const created = jsonOf<{ id: string; token: string }>(await runBin('sikkerkey', ['bootstrap-token', 'create', '--project', 'ops', ...args, '--json'], { env }));
  assert.deepEqual(Object.keys(created).sort(), ['id', 'token']);
  assert.match(created.token, /^skb_/);
  return created.token;
}

async function agentEnroll(token: string, hostname: string): Promise<CliResult & { keyFile: string }> {
  const keyFile = join(dir, `m${++n}.key`);
  return { ...(await runBin('sikkerkey-agent', ['enroll', '--url', url, '--token', token, '--key-file', keyFile, '--hostname', hostname, '--json'])), keyFile };
}

const getDb = (keyFile: string) => runBin('sikkerkey-agent', ['get', 'ops', 'db', '--field', 'username'], { env: { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: keyFile } });

test('a bootstrap-minted machine cannot read until an operator approves it', async () => {
  const token = await bootstrapToken('--secret', 'db', '--lifetime', '2h', '--ip', '127.0.0.0/8,::1/128');
  const r = await agentEnroll(token, 'contractor-laptop');
  const m = jsonOf<{ name: string; status: string }>(r);
  assert.equal(m.status, 'pending_approval');
  assert.match(m.name, /^contractor-laptop-[a-z0-9]{4}$/);

  const waiting = await getDb(r.keyFile);
  assert.notEqual(waiting.code, 0);
  assert.match(waiting.stderr, /^error SK_ERR_MACHINE_PENDING_APPROVAL: /);

  const again = await agentEnroll(token, 'second-laptop');
  assert.match(again.stderr, /^error SK_ERR_TOKEN_INVALID: /, 'a bootstrap token mints exactly one machine');

  const approved = jsonOf<{ name: string; status: string }>(await runBin('sikkerkey', ['machine', 'approve', m.name, '--json'], { env }));
  assert.equal(approved.status, 'active');
  const read = await getDb(r.keyFile);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'ops\n');
});

test('--no-approval mints a machine that is active at once', async () => {
  const token = await bootstrapToken('--lifetime', '1h', '--no-approval');
  const r = await agentEnroll(token, 'one-off-worker');
  assert.equal(jsonOf<{ status: string }>(r).status, 'active');
  assert.equal((await getDb(r.keyFile)).code, 0);
});

test('a country allowlist is checked against the --geoip-db database: loopback has no country', async () => {
  const token = await bootstrapToken('--lifetime', '1h', '--country', 'NO,SE', '--no-approval');
  const r = await agentEnroll(token, 'somewhere');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error SK_ERR_TOKEN_CONSTRAINT: .*has no country in the GeoIP database/);
  const bad = await runBin('sikkerkey', ['bootstrap-token', 'create', '--project', 'ops', '--lifetime', '1h', '--country', 'XX', '--json'], { env });
  assert.match(bad.stderr, /^error SK_ERR_VALIDATION: .*ISO-3166/);
  const short = await runBin('sikkerkey', ['bootstrap-token', 'create', '--project', 'ops', '--lifetime', '30m', '--json'], { env });
  assert.match(short.stderr, /^error SK_ERR_VALIDATION: .*between 1h and 365d/);
});

test('extend, history and revert-extension with the operator CLI', async () => {
  const token = await bootstrapToken('--lifetime', '2h', '--no-approval', '--name-template', 'temp-{hostname}');
  const m = jsonOf<{ name: string; expiresAt: number }>(await agentEnroll(token, 'worker'));
  assert.equal(m.name, 'temp-worker');

  const extended = jsonOf<{ name: string; expiresAt: number; status: string }>(
    await runBin('sikkerkey', ['machine', 'extend', m.name, '--by', '30d', '--reason', 'contract extended', '--json'], { env }));
  assert.equal(extended.expiresAt, m.expiresAt + 30 * 24 * 3_600_000);
  const hist = jsonOf<{ extensions: Array<{ reason: string; previousExpiresAt: number; newExpiresAt: number; revertedAt: number | null }> }>(
    await runBin('sikkerkey', ['machine', 'history', m.name, '--json'], { env }));
  assert.deepEqual(hist.extensions.map((e) => [e.reason, e.previousExpiresAt, e.newExpiresAt, e.revertedAt]),
    [['contract extended', m.expiresAt, extended.expiresAt, null]]);
  const human = await runBin('sikkerkey', ['machine', 'history', m.name], { env });
  assert.match(human.stdout, /contract extended/);

  const reverted = jsonOf<{ expiresAt: number }>(await runBin('sikkerkey', ['machine', 'revert-extension', m.name, '--reason', 'ended early', '--json'], { env }));
  assert.equal(reverted.expiresAt, m.expiresAt);
  const after = jsonOf<{ extensions: Array<{ revertedAt: number | null }> }>(await runBin('sikkerkey', ['machine', 'history', m.name, '--json'], { env }));
  assert.equal(after.extensions.length, 1);
  assert.ok(after.extensions[0]?.revertedAt);

  const tooLong = await runBin('sikkerkey', ['machine', 'extend', m.name, '--by', '366d', '--reason', 'forever', '--json'], { env });
  assert.match(tooLong.stderr, /^error SK_ERR_VALIDATION: .*12 months/);

  const list = jsonOf<{ tokens: Array<{ state: string }> }>(await runBin('sikkerkey', ['bootstrap-token', 'list', '--json'], { env }));
  assert.ok(list.tokens.length >= 4);
  assert.ok(list.tokens.some((t) => t.state === 'used'));
  const audit = jsonOf<{ events: Array<{ action: string }> }>(await runBin('sikkerkey', ['audit', 'list', '--all', '--json'], { env }));
  for (const a of ['bootstrap_token.create', 'machine.enroll', 'machine.approve', 'machine.extend', 'machine.revert_extension']) {
    assert.ok(audit.events.some((e) => e.action === a), `missing ${a}`);
  }
});

// Fleet enrollment with real processes: a vault (`sikkerkey-vault serve`), the operator CLI making
// enrollment tokens, and `sikkerkey-agent enroll` registering hosts that then read their
// pre-granted secret with `sikkerkey-agent get`. Every refusal arrives with an error code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { CliResult, RunningProcess } from '../support/processes.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { sleep } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-enroll-fleet-'));
let vault: RunningProcess | undefined;
let url = '';
let env: Record<string, string> = {};
const tokens: string[] = [];
let n = 0;

before(async () => {
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey + '\n', { mode: 0o600 });
  vault = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0']);
  url = (await vault.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1] as string;
  env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  jsonOf(await runBin('sikkerkey', ['project', 'create', 'ci', '--json'], { env }));
  jsonOf(await runBin('sikkerkey', ['secret', 'set', 'ci', 'deploy-key', '--value', 'fleet-deploy-key-1', '--json'], { env }));
  jsonOf(await runBin('sikkerkey', ['secret', 'set', 'ci', 'other', '--value', 'fleet-other-1', '--json'], { env }));
});
after(async () => {
  await vault?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function enrollToken(...args: string[]): Promise<{ id: string; token: string }> {
  const created = jsonOf<{ id: string; token: string }>(await runBin('sikkerkey', ['enroll-token', 'create', '--project', 'ci', ...args, '--json'], { env }));
  tokens.push(created.token);
  return created;
}

function agentEnroll(token: string, hostname: string, keyFile = join(dir, `m${++n}.key`)): Promise<CliResult & { keyFile: string }> {
  return runBin('sikkerkey-agent', ['enroll', '--url', url, '--token', token, '--key-file', keyFile, '--hostname', hostname, '--json'])
    .then((r) => ({ ...r, keyFile }));
}

function refusedWith(r: CliResult, code: string, message?: RegExp): void {
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, new RegExp(`^error ${code}: `), r.stderr);
  if (message) assert.match(r.stderr, message);
  assert.equal(r.stdout, '');
}

test('an agent enrolls with a fleet token and reads its pre-granted secret', async () => {
  const t = await enrollToken('--secret', 'deploy-key', '--label', 'ci', '--machine-lifetime', '2h', '--hostname-regex', 'runner-[0-9]+',
    '--source-cidr', '127.0.0.0/8', '--name-template', 'ci-{hostname}-{rand4}', '--max-uses', '5', '--expires-in', '7d');
  assert.deepEqual(Object.keys(t).sort(), ['id', 'token']);
  assert.match(t.token, /^ske_/);

  const before = Date.now();
  const r = await agentEnroll(t.token, 'runner-1');
  const m = jsonOf<{ machineId: string; name: string; keyId: string; expiresAt: number; status: string }>(r);
  assert.deepEqual(Object.keys(m).sort(), ['expiresAt', 'keyId', 'machineId', 'name', 'status']);
  assert.match(m.name, /^ci-runner-1-[a-z0-9]{4}$/);
  assert.equal(m.status, 'active');
  assert.ok(m.expiresAt >= before + 2 * 3_600_000 - 1000 && m.expiresAt <= Date.now() + 2 * 3_600_000 + 1000);
  assert.equal(statSync(r.keyFile).mode & 0o777, 0o600, 'the key was generated on the host with mode 0600');

  const agentEnv = { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: r.keyFile };
  const read = await runBin('sikkerkey-agent', ['get', 'ci', 'deploy-key'], { env: agentEnv });
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'fleet-deploy-key-1\n');
  refusedWith(await runBin('sikkerkey-agent', ['get', 'ci', 'other'], { env: agentEnv }), 'SK_ERR_NO_GRANT');

  const listed = jsonOf<{ machines: Array<{ name: string; status: string; labels: string[] }> }>(await runBin('sikkerkey', ['machine', 'list', '--json'], { env }));
  assert.deepEqual(listed.machines.find((x) => x.name === m.name)?.labels, ['ci']);
  const tokenList = jsonOf<{ tokens: Array<{ id: string; uses: number; maxUses: number; state: string }> }>(await runBin('sikkerkey', ['enroll-token', 'list', '--json'], { env }));
  const row = tokenList.tokens.find((x) => x.id === t.id);
  assert.deepEqual([row?.uses, row?.maxUses, row?.state], [1, 5, 'active']);
});

test('enroll reads SIKKERKEY_URL and SIKKERKEY_AGENT_KEY_FILE, and uses an existing key file', async () => {
  const t = await enrollToken('--machine-lifetime', '1h', '--name-template', 'env-{n}');
  const keyFile = join(dir, 'existing.key');
  const made = jsonOf<{ keyId: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', keyFile, '--json']));
  const r = await runBin('sikkerkey-agent', ['enroll', '--token', t.token, '--hostname', 'pod-1', '--json'],
    { env: { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: keyFile } });
  const m = jsonOf<{ name: string; keyId: string }>(r);
  assert.equal(m.name, 'env-1');
  assert.equal(m.keyId, made.keyId);
  // Enrolling the same key again is a conflict, not a second machine.
  refusedWith(await runBin('sikkerkey-agent', ['enroll', '--token', t.token, '--hostname', 'pod-1'], { env: { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: keyFile } }), 'SK_ERR_CONFLICT');
});

test('an address outside the token\'s CIDR is refused with SK_ERR_TOKEN_CONSTRAINT', async () => {
  // The vault sees this test's requests from 127.0.0.1.
  const t = await enrollToken('--machine-lifetime', '1h', '--source-cidr', '10.0.0.0/8');
  refusedWith(await agentEnroll(t.token, 'runner-2'), 'SK_ERR_TOKEN_CONSTRAINT', /source address 127\.0\.0\.1 is outside the token's CIDRs/);
});

test('a hostname outside the token\'s regex is refused with SK_ERR_TOKEN_CONSTRAINT', async () => {
  const t = await enrollToken('--machine-lifetime', '1h', '--hostname-regex', 'runner-[0-9]+');
  refusedWith(await agentEnroll(t.token, 'laptop-7'), 'SK_ERR_TOKEN_CONSTRAINT', /hostname "laptop-7" does not match/);
});

test('a used single-use token, an expired token and a revoked token are refused with SK_ERR_TOKEN_INVALID', async () => {
  const once = await enrollToken('--machine-lifetime', '1h', '--max-uses', '1');
  assert.equal((await agentEnroll(once.token, 'runner-3')).code, 0);
  refusedWith(await agentEnroll(once.token, 'runner-4'), 'SK_ERR_TOKEN_INVALID');

  const brief = await enrollToken('--machine-lifetime', '1h', '--expires-in', '1s');
  // A deliberate wait on time: the real vault's clock has to pass the token's 1 s expiry.
  await sleep(1200);
  refusedWith(await agentEnroll(brief.token, 'runner-5'), 'SK_ERR_TOKEN_INVALID');

  const revoked = await enrollToken('--machine-lifetime', '1h');
  jsonOf(await runBin('sikkerkey', ['enroll-token', 'revoke', revoked.id, '--json'], { env }));
  refusedWith(await agentEnroll(revoked.token, 'runner-6'), 'SK_ERR_TOKEN_INVALID');
  const list = jsonOf<{ tokens: Array<{ id: string; state: string }> }>(await runBin('sikkerkey', ['enroll-token', 'list', '--json'], { env }));
  assert.equal(list.tokens.find((x) => x.id === revoked.id)?.state, 'revoked');
  assert.equal(list.tokens.find((x) => x.id === once.id)?.state, 'used');
});

test('a replayed registration is refused with SK_ERR_SIGNATURE_REPLAYED', async () => {
  const t = await enrollToken('--machine-lifetime', '1h');
  const key = generateIdentityKey();
  const body = Buffer.from(JSON.stringify({ token: t.token, publicKey: Buffer.from(key.publicKey).toString('base64url'), hostname: 'runner-9' }));
  const authority = new URL(url).host;
  const headers = signRequest({ method: 'POST', authority, target: '/v1/enroll', body, contentType: 'application/json' }, key);
  const send = () => fetch(`${url}/v1/enroll`, { method: 'POST', headers, body });
  const first = await send();
  assert.equal(first.status, 201, await first.clone().text());
  const replay = await send();
  assert.equal(replay.status, 401);
  assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'SK_ERR_SIGNATURE_REPLAYED');
});

test('the audit chain holds token creation and revocation, enrollments and refusals, and verifies; no token reached the vault\'s output', async () => {
  const events = jsonOf<{ events: Array<{ action: string; outcome: string }> }>(await runBin('sikkerkey', ['audit', 'list', '--all', '--json'], { env }));
  const seen = new Set(events.events.map((e) => `${e.action}:${e.outcome}`));
  for (const a of ['enrollment_token.create:success', 'enrollment_token.revoke:success', 'machine.enroll:success', 'machine.enroll:denied']) {
    assert.ok(seen.has(a), `missing ${a}`);
  }
  assert.equal(jsonOf<{ ok: boolean }>(await runBin('sikkerkey', ['audit', 'verify', '--json'], { env })).ok, true);
  const output = vault?.output() ?? '';
  for (const token of tokens) assert.equal(output.includes(token.slice(4)), false, 'a token reached the vault log');
  assert.equal(output.includes('fleet-deploy-key-1'), false);
});

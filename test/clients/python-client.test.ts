// The Python client (clients/python, package `sikkerkey`): its own unittest suite (the RFC 9421
// B.2.6 vector and docs/protocol.md §8 byte for byte), then against a real vault process — a
// granted secret read, an ungranted one refused with the vault's code, a batch, and a watch that
// sees a new version written while it waits; then over the vault's unix socket, and over TLS with a
// CA file and certificate pinning (the Node client's `pinSha256`: a wrong pin is SK_ERR_TLS_PIN
// before any request is sent). python3 and python3-cryptography come from the test suite's
// requirements check (scripts/test-requirements.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa } from '../support/test-ca.js';
import type { IssuedCert, TestCa } from '../support/test-ca.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { jsonOf, runBin } from '../support/processes.js';
import { REPO_ROOT } from '../support/agent-binary.js';
import { waitFor } from '../support/wait.js';

const PY_DIR = join(REPO_ROOT, 'clients', 'python');
const FIELDS = { username: 'shop_app', password: 'p"w\'$ #=\\\nx' };

let v: VaultProcess;
let keyFile: string;
/** The same setup on a vault serving a unix socket, and one serving TLS under a test CA. */
let unixVault: VaultProcess;
let tlsVault: VaultProcess;
let ca: TestCa;
let otherCa: TestCa;
let cert: IssuedCert;
let sockDir: string;

function python(args: string[], env: NodeJS.ProcessEnv = {}): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; out: () => string; kill: () => void } {
  const child = spawn('python3', args, { cwd: PY_DIR, env: { ...process.env, PYTHONPATH: PY_DIR, PYTHONDONTWRITEBYTECODE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done, out: () => stdout, kill: () => child.kill('SIGKILL') };
}

/** A project with a granted and an ungranted secret, and the machine py1 (whose key is `keyFile`). */
async function seed(vault: VaultProcess): Promise<void> {
  const must = async (args: string[]): Promise<void> => { jsonOf(await vault.sk([...args, '--json'])); };
  await must(['project', 'create', 'shop']);
  await must(['secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(FIELDS)]);
  await must(['secret', 'set', 'shop', 'other', '--value', 'not-for-this-machine']);
  const pub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', keyFile, '--json']));
  await must(['machine', 'add', 'py1', '--public-key', pub.publicKey]);
  await must(['grant', 'add', 'py1', '--project', 'shop', '--secret', 'db']);
}

before(async () => {
  sockDir = mkdtempSync(join(tmpdir(), 'sk-py-'));
  ca = makeTestCa('SikkerKey vault CA');
  otherCa = makeTestCa('Some other CA');
  cert = ca.issue();
  [v, unixVault, tlsVault] = await Promise.all([
    startVaultProcess(), startVaultProcess({ listen: `unix:${join(sockDir, 'vault.sock')}` }), startVaultProcess({ tls: { cert: cert.certFile, key: cert.keyFile, ca: ca.caFile } }),
  ]);
  keyFile = join(v.dir, 'py.key');
  for (const vault of [v, unixVault, tlsVault]) await seed(vault);
});

after(async () => {
  await v?.close();
  await unixVault?.close();
  await tlsVault?.close();
  ca?.cleanup();
  otherCa?.cleanup();
  if (sockDir) rmSync(sockDir, { recursive: true, force: true });
});

test('the Python client\'s unittest suite passes: RFC 9421 B.2.6 and the protocol doc\'s worked examples', async () => {
  const r = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v']).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /test_reproduces_rfc9421_b26_signature_base_and_signature .* ok/);
  assert.match(r.stderr, /test_protocol_doc_8_1_request_with_body_and_query .* ok/);
  assert.match(r.stderr, /Ran \d+ tests[\s\S]*\nOK/);
});

const READS = `
import json, os, sys
from sikkerkey import Client, SikkerKeyError
c = Client(os.environ["SK_URL"], key_file=os.environ["SK_KEY"], ca_file=os.environ.get("SK_CA"), pin_sha256=os.environ.get("SK_PIN"))
out = {}
s = c.get("shop", "db")
out["granted"] = {"version": s.version, "fields": s.fields, "value": s.value}
try:
    c.get("shop", "other")
    out["ungranted"] = "read"
except SikkerKeyError as e:
    out["ungranted"] = {"code": e.code, "status": e.status}
batch = c.get_many([("shop", "db"), ("shop", "other")])
out["batch"] = [{"fields": b.fields} if not isinstance(b, SikkerKeyError) else {"code": b.code} for b in batch]
print(json.dumps(out))
`;

test('against a real vault: reads a granted secret, is refused an ungranted one with SK_ERR_NO_GRANT, and batches both', async () => {
  const r = await python(['-c', READS], { SK_URL: v.url, SK_KEY: keyFile }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { granted: { version: number; fields: Record<string, string>; value: string | null }; ungranted: { code: string; status: number }; batch: Array<{ fields?: Record<string, string>; code?: string }> };
  assert.equal(out.granted.version, 1);
  assert.ok(JSON.stringify(out.granted.fields) === JSON.stringify(FIELDS), 'the fields read are the ones written');
  assert.equal(out.granted.value, null);
  assert.deepEqual(out.ungranted, { code: 'SK_ERR_NO_GRANT', status: 403 });
  assert.ok(JSON.stringify(out.batch[0]?.fields) === JSON.stringify(FIELDS));
  assert.deepEqual(out.batch[1], { code: 'SK_ERR_NO_GRANT' });
});

const WATCH = `
import json, os, sys
from sikkerkey import Client
c = Client(os.environ["SK_URL"], key_file=os.environ["SK_KEY"])
for s in c.watch("shop", "db", wait=20):
    print(json.dumps({"version": s.version, "same": s.fields == json.loads(os.environ["SK_EXPECT"])}), flush=True)
    if s.version >= 2:
        break
`;

test('watch yields the live version, then the next one written while it waits', async () => {
  const next = { ...FIELDS, password: 'second\'"$' };
  const p = python(['-c', WATCH], { SK_URL: v.url, SK_KEY: keyFile, SK_EXPECT: JSON.stringify(next) });
  try {
    await waitFor(() => p.out(), { what: 'the watch to yield version 1', timeoutMs: 30_000, until: (o) => o.includes('"version": 1') });
    jsonOf(await v.sk(['secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(next), '--json']));
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { version: number; same: boolean });
    assert.deepEqual(lines, [{ version: 1, same: false }, { version: 2, same: true }]);
  } finally {
    p.kill();
  }
});

type ReadsOut = { granted: { version: number; fields: Record<string, string>; value: string | null }; ungranted: { code: string; status: number }; batch: Array<{ fields?: Record<string, string>; code?: string }> };

test('over the vault\'s unix socket (unix:/path): reads, refusals and batches as over TCP', async () => {
  const r = await python(['-c', READS], { SK_URL: unixVault.url, SK_KEY: keyFile }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as ReadsOut;
  assert.ok(unixVault.url.startsWith('unix:/'));
  assert.ok(JSON.stringify(out.granted.fields) === JSON.stringify(FIELDS), 'the fields read over the socket are the ones written');
  assert.deepEqual(out.ungranted, { code: 'SK_ERR_NO_GRANT', status: 403 });
  assert.deepEqual(out.batch[1], { code: 'SK_ERR_NO_GRANT' });
});

const REFUSAL = `
import json, os
from sikkerkey import Client, SikkerKeyError
try:
    c = Client(os.environ["SK_URL"], key_file=os.environ["SK_KEY"], ca_file=os.environ.get("SK_CA"), pin_sha256=os.environ.get("SK_PIN"), env={})
    c.get("shop", "db")
    print(json.dumps({"code": "accepted"}))
except SikkerKeyError as e:
    print(json.dumps({"code": e.code, "message": e.message}))
`;

async function refusal(env: Record<string, string>): Promise<{ code: string; message?: string }> {
  const r = await python(['-c', REFUSAL], { SK_KEY: keyFile, ...env }).done;
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: string; message?: string };
}

test('over TLS: the CA file makes the vault trusted, the right pin_sha256 reads, a wrong pin is SK_ERR_TLS_PIN, an unknown CA SK_ERR_TLS_CERT', async () => {
  const pinned = await python(['-c', READS], { SK_URL: tlsVault.url, SK_KEY: keyFile, SK_CA: ca.caFile, SK_PIN: cert.spkiSha256 }).done;
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.ok(JSON.stringify((JSON.parse(pinned.stdout) as ReadsOut).granted.fields) === JSON.stringify(FIELDS), 'read over TLS with the pin');

  const requestsBefore = jsonOf<{ events: unknown[] }>(await tlsVault.sk(['audit', 'list', '--action', 'secret.read', '--all', '--json'])).events.length;
  const wrong = await refusal({ SK_URL: tlsVault.url, SK_CA: ca.caFile, SK_PIN: otherCa.issue().spkiSha256 });
  assert.equal(wrong.code, 'SK_ERR_TLS_PIN');
  assert.match(wrong.message ?? '', /the vault's certificate is trusted but its key \(SPKI sha256 .*\) does not match the pinned pin_sha256/);
  const after = jsonOf<{ events: unknown[] }>(await tlsVault.sk(['audit', 'list', '--action', 'secret.read', '--all', '--json'])).events.length;
  assert.equal(after, requestsBefore, 'a wrong pin sends no request: no read reached the vault');

  assert.equal((await refusal({ SK_URL: tlsVault.url })).code, 'SK_ERR_TLS_CERT', 'without the CA file the certificate is not trusted');
  assert.equal((await refusal({ SK_URL: tlsVault.url, SK_CA: otherCa.caFile })).code, 'SK_ERR_TLS_CERT');
  assert.equal((await refusal({ SK_URL: tlsVault.url, SK_CA: ca.caFile, SK_PIN: 'not-a-pin' })).code, 'SK_ERR_CONFIG');
  assert.equal((await refusal({ SK_URL: unixVault.url, SK_PIN: cert.spkiSha256 })).code, 'SK_ERR_CONFIG', 'a pin applies to https:// only, as in the Node client');
  assert.equal((await refusal({ SK_URL: 'unix:' })).code, 'SK_ERR_CONFIG');
});

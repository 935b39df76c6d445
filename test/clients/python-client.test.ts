// The Python client (clients/python, package `sikkerkey`): its own unittest suite (the RFC 9421
// B.2.6 vector and docs/protocol.md §8 byte for byte), then against a real vault process — a
// granted secret read, an ungranted one refused with the vault's code, a batch, and a watch that
// sees a new version written while it waits. python3 and python3-cryptography come from the test
// suite's requirements check (scripts/test-requirements.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { jsonOf, runBin } from '../support/processes.js';
import { REPO_ROOT } from '../support/agent-binary.js';
import { waitFor } from '../support/wait.js';

const PY_DIR = join(REPO_ROOT, 'clients', 'python');
const FIELDS = { username: 'shop_app', password: 'p"w\'$ #=\\\nx' };

let v: VaultProcess;
let keyFile: string;

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

before(async () => {
  v = await startVaultProcess();
  const must = async (args: string[]): Promise<void> => { jsonOf(await v.sk([...args, '--json'])); };
  await must(['project', 'create', 'shop']);
  await must(['secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(FIELDS)]);
  await must(['secret', 'set', 'shop', 'other', '--value', 'not-for-this-machine']);
  keyFile = join(v.dir, 'py.key');
  const pub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', keyFile, '--json']));
  await must(['machine', 'add', 'py1', '--public-key', pub.publicKey]);
  await must(['grant', 'add', 'py1', '--project', 'shop', '--secret', 'db']);
});

after(async () => {
  await v?.close();
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
c = Client(os.environ["SK_URL"], key_file=os.environ["SK_KEY"])
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

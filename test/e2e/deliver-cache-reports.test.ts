// The offline cache's limits and its accounting (issue 26), with a real vault process and real
// `sikkerkey-agent exec` runs: the vault marks an access-policy secret's read `noStore`; a
// canary's read carries no mark (it must look real) but the agent's confirmation before storing is
// refused by the trip; so the cache holds no value of either (checked through the cache's own API
// with the machine's key), while a plain secret is cached; with the vault stopped, such a secret fails with a clear error while a plain
// one is served; the reads served from the cache are reported once the vault is back, audited as
// `secret.read_cached` once per report however often it is sent; a disabled machine's cache is
// emptied and its reports refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import { parsePrometheusText } from '../support/prom-text.js';
import type { CliResult } from '../support/processes.js';
import { freePort, randomTag } from '../support/services.js';
import { OfflineCache, cacheKey } from '../../agent/delivery/offline-cache.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { VaultClient } from '../../protocol/client.js';
import { isSikkerKeyError } from '../../protocol/errors.js';

const PLAIN = `plain-${randomTag(12)}`;
const GOVERNED = `governed-${randomTag(12)}`;
const DECOY = `decoy-${randomTag(12)}`;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

let v: VaultProcess;

interface Machine { name: string; keyFile: string; cacheDir: string; config: string }
let app: Machine;
let spy: Machine;

async function addMachine(name: string, grants: string[][]): Promise<Machine> {
  const keyFile = join(v.dir, `${name}.key`);
  const pub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', keyFile, '--json']));
  jsonOf(await v.sk(['machine', 'add', name, '--public-key', pub.publicKey, '--json']));
  for (const g of grants) jsonOf(await v.sk(['grant', 'add', name, ...g, '--json']));
  const cacheDir = join(v.dir, `${name}-cache`);
  const config = join(v.dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({ vaultUrl: v.url, keyFile, cacheDir, cacheMaxAge: '1h' }));
  return { name, keyFile, cacheDir, config };
}

before(async () => {
  v = await startVaultProcess();
  const must = async (args: string[]): Promise<void> => { jsonOf(await v.sk([...args, '--json'])); };
  await must(['project', 'create', 'shop']);
  await must(['secret', 'set', 'shop', 'api', '--value', PLAIN]);
  await must(['secret', 'set', 'shop', 'governed', '--value', GOVERNED]);
  await must(['policy', 'create', 'shop', 'hundred', '--max-reads', '100']);
  await must(['policy', 'bind', 'shop', 'hundred', '--secret', 'governed']);
  await must(['project', 'create', 'bait']);
  await must(['canary', 'create', 'bait', 'db-backup', '--value', DECOY]);
  app = await addMachine('app1', [['--project', 'shop']]);
  spy = await addMachine('spy1', [['--project', 'bait']]);
});

after(async () => {
  await v?.close();
});

/** exec --once of one variable; the child says whether it saw `expected` (it is told only its hash). */
function exec(m: Machine, ref: string, expected: string): Promise<CliResult> {
  return runBin('sikkerkey-agent', ['exec', '--config', m.config, '--once', '--env', `X=${ref}`, '--',
    process.execPath, '-e', 'process.stdout.write(require("node:crypto").createHash("sha256").update(process.env.X ?? "").digest("hex") === process.argv[1] ? "same" : "different")', sha(expected)],
  { timeoutMs: 60_000 });
}

/** The machine's cache, opened as the agent opens it (its key derived from the machine key). */
function cacheOf(m: Machine): OfflineCache {
  const key = readPrivateKeyFile(m.keyFile);
  return new OfflineCache({ dir: m.cacheDir, maxAgeMs: 3_600_000, key: cacheKey(key.privateKey, key.keyId), log: () => undefined });
}

function clientOf(m: Machine): VaultClient {
  return new VaultClient({ url: v.url, keyFile: m.keyFile, env: {} });
}

interface AuditJson { events: Array<{ action: string; target: string; outcome: string; actorKind: string; actorName: string | null; severity: string; details: Record<string, unknown> }> }
async function cachedReadEvents(): Promise<AuditJson['events']> {
  return jsonOf<AuditJson>(await v.sk(['audit', 'list', '--action', 'secret.read_cached', '--all', '--reverse', '--json'])).events;
}

test('a canary and a policy-governed secret are delivered but never cached; a plain secret is', async () => {
  for (const [ref, value] of [['shop/api', PLAIN], ['shop/governed', GOVERNED]] as const) {
    const r = await exec(app, ref, value);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'same', `${ref} was delivered`);
  }
  const cache = cacheOf(app);
  assert.ok(cache.load('shop', 'api')?.value?.value === PLAIN, 'the plain secret is in the cache');
  const governed = cache.load('shop', 'governed');
  assert.equal(governed?.noStore, true, 'the governed secret\'s entry is the vault\'s no-store marker');
  assert.equal(governed?.value, undefined, 'and holds no value');

  const canary = await exec(spy, 'bait/db-backup', DECOY);
  assert.equal(canary.code, 0, canary.stderr);
  assert.equal(canary.stdout, 'same', 'the canary read is answered like any read');
  assert.match(canary.stderr, /the vault refused this machine \(SK_ERR_MACHINE_DISABLED\): the offline cache was emptied/, 'the confirmation before storing met the trip');
  assert.equal(cacheOf(spy).load('bait', 'db-backup'), undefined, 'the canary\'s value is not in the cache');
  assert.ok(!canary.stderr.includes(DECOY));
  const trips = jsonOf<AuditJson>(await v.sk(['audit', 'list', '--action', 'canary.tripped', '--json'])).events;
  assert.equal(trips.length, 1, 'the canary tripped');
});

test('with the vault stopped: the plain secret is served from the cache (and counted in run\'s metrics), the governed one fails with a clear error; once the vault is back the cache-served reads are reported and audited once', async () => {
  await v.proc.stop('SIGKILL');
  for (let i = 0; i < 2; i++) {
    const offline = await exec(app, 'shop/api', PLAIN);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.stdout, 'same');
    assert.match(offline.stderr, /served from the offline cache/);
  }
  // `run` keeping a template current counts its cache-served read in its metrics.
  const port = await freePort();
  const runConfig = join(v.dir, 'app1-run.json');
  const rendered = join(v.dir, 'api.txt');
  writeFileSync(runConfig, JSON.stringify({ vaultUrl: v.url, keyFile: app.keyFile, cacheDir: app.cacheDir, cacheMaxAge: '1h', health: { listen: `127.0.0.1:${port}` }, pollWaitSeconds: 5,
    templates: [{ destination: rendered, format: 'raw', secrets: { api: 'shop/api' } }] }));
  const run = startBin('sikkerkey-agent', ['run', '--config', runConfig]);
  try {
    await run.waitFor(/rendered .*api\.txt/);
    assert.ok(readFileSync(rendered, 'utf8') === PLAIN, 'run rendered the cached value');
    const metrics = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    assert.equal(metrics.get('sikkerkey_agent_cache_reads_total')?.samples[0]?.value, 1);
    assert.equal(metrics.get('sikkerkey_agent_cache_reads_total')?.type, 'counter');
  } finally {
    await run.stop('SIGTERM');
  }

  const refused = await exec(app, 'shop/governed', GOVERNED);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '', 'the command did not run');
  assert.match(refused.stderr, /error SK_ERR_CONNECT: the vault could not be reached .*, and shop\/governed is never served from the offline cache: the vault marks it no-store/);
  assert.ok(!refused.stderr.includes(GOVERNED) && !refused.stderr.includes(PLAIN), 'no value in the agent\'s output');
  assert.equal(cacheOf(app).journal.pending(), 3, 'three cache-served reads are journaled');

  await v.restart();
  const online = await exec(app, 'shop/api', PLAIN);
  assert.equal(online.code, 0, online.stderr);
  assert.match(online.stderr, /reported 3 cache-served read\(s\) of 1 secret version\(s\) to the vault/);
  assert.equal(cacheOf(app).journal.pending(), 0, 'the journal is empty once the vault took the report');
  const events = await cachedReadEvents();
  assert.equal(events.length, 1, JSON.stringify(events));
  const [e] = events;
  assert.equal(e?.target, 'secret:shop/api');
  assert.equal(e?.outcome, 'success');
  assert.equal(e?.actorKind, 'machine');
  assert.equal(e?.actorName, 'app1');
  assert.equal(e?.severity, 'info');
  assert.equal(e?.details.version, 1);
  assert.equal(e?.details.count, 3);
  assert.ok(typeof e?.details.firstServedAt === 'number' && typeof e.details.lastServedAt === 'number' && e.details.firstServedAt <= e.details.lastServedAt);
  assert.ok(!JSON.stringify(events).includes(PLAIN), 'no value in the audit event');
  // Nothing pending: a later start sends nothing more.
  assert.equal((await exec(app, 'shop/api', PLAIN)).code, 0);
  assert.equal((await cachedReadEvents()).length, 1);
});

test('a report sent again with the same id is recorded once; reports that break the limits are refused with SK_ERR_VALIDATION', async () => {
  const client = clientOf(app);
  try {
    const now = Date.now();
    const report = { reportId: `retry-${randomTag(8)}`, reads: [{ project: 'shop', name: 'api', version: 1, count: 3, firstServedAt: now - 5000, lastServedAt: now - 1000 }] };
    const first = await client.request<{ recorded: number; duplicate: boolean }>('POST', '/v1/agent/cache-reads', report);
    assert.deepEqual([first.status, first.body.recorded, first.body.duplicate], [200, 1, false]);
    const again = await client.request<{ recorded: number; duplicate: boolean }>('POST', '/v1/agent/cache-reads', report);
    assert.deepEqual([again.status, again.body.recorded, again.body.duplicate], [200, 0, true]);
    assert.equal((await cachedReadEvents()).filter((e) => e.details.reportId === report.reportId).length, 1, 'one audit event for the report, not two');

    const refusal = async (body: unknown): Promise<string> => {
      try {
        await client.request('POST', '/v1/agent/cache-reads', body);
        return 'accepted';
      } catch (err) {
        return isSikkerKeyError(err) ? `${err.statusCode} ${err.code}` : String(err);
      }
    };
    const read = report.reads[0] as (typeof report.reads)[number];
    assert.equal(await refusal({ reportId: `bad-${randomTag(8)}`, reads: [{ ...read, lastServedAt: read.firstServedAt - 1 }] }), '400 SK_ERR_VALIDATION');
    assert.equal(await refusal({ reportId: `bad-${randomTag(8)}`, reads: [{ ...read, lastServedAt: now + 3_600_000 }] }), '400 SK_ERR_VALIDATION');
    assert.equal(await refusal({ reportId: `bad-${randomTag(8)}`, reads: Array.from({ length: 101 }, () => read) }), '400 SK_ERR_VALIDATION');
    assert.equal(await refusal({ reportId: 'x', reads: [read] }), '400 SK_ERR_VALIDATION');
    assert.equal(await refusal({ reportId: `bad-${randomTag(8)}`, reads: [{ ...read, value: PLAIN }] }), '400 SK_ERR_VALIDATION');
    assert.equal(await refusal({ reportId: `bad-${randomTag(8)}`, reads: [{ ...read, count: 0 }] }), '400 SK_ERR_VALIDATION');
  } finally {
    client.close();
  }
});

test('a disabled machine: its reports are refused (403), its cache is emptied at the vault\'s word, and with the vault stopped nothing is served', async () => {
  // One read served while the vault is away, so a report is pending when the machine is disabled.
  await v.proc.stop('SIGKILL');
  assert.equal((await exec(app, 'shop/api', PLAIN)).stdout, 'same');
  await v.restart();
  const recordedBefore = (await cachedReadEvents()).length;
  jsonOf(await v.sk(['machine', 'disable', 'app1', '--json']));

  const client = clientOf(app);
  try {
    await assert.rejects(client.request('POST', '/v1/agent/cache-reads', { reportId: `off-${randomTag(8)}`, reads: [{ project: 'shop', name: 'api', version: 1, count: 1, firstServedAt: Date.now(), lastServedAt: Date.now() }] }),
      (err: unknown) => isSikkerKeyError(err) && err.code === 'SK_ERR_MACHINE_DISABLED' && err.statusCode === 403);
  } finally {
    client.close();
  }

  const refused = await exec(app, 'shop/api', PLAIN);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SK_ERR_MACHINE_DISABLED/);
  assert.match(refused.stderr, /the offline cache was emptied/);
  assert.match(refused.stderr, /the vault refused this machine \(SK_ERR_MACHINE_DISABLED\): the offline cache was emptied; its reads stay journaled until the vault takes them/, 'the refused report itself empties the cache');
  const cache = cacheOf(app);
  assert.equal(cache.load('shop', 'api'), undefined, 'the entry is gone');
  assert.equal(cache.journal.pending(), 1, 'the refused report stays journaled (the machine may be enabled again)');
  assert.equal((await cachedReadEvents()).length, recordedBefore, 'nothing recorded for the disabled machine');

  await v.proc.stop('SIGKILL');
  const offline = await exec(app, 'shop/api', PLAIN);
  assert.equal(offline.code, 1);
  assert.equal(offline.stdout, '', 'nothing was served from the emptied cache');
  assert.match(offline.stderr, /error SK_ERR_CONNECT/);
});

// The keyed audit log (issue "Hardening", item 3): every event's hash is MAC'd with a key wrapped
// under the root key, and the head is signed into checkpoints. An editor who can write the
// database but lacks the key cannot delete events, re-hash the rest and pass `audit verify`; an
// editor with the key who rewrites history past a saved checkpoint fails `audit verify
// --checkpoint`; and a vault from before the keys gets them when it first starts (after its chain
// is verified), or refuses to start on a broken chain unless --accept-broken-chain.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { pino } from 'pino';
import { forEachStore } from '../support/stores.js';
import { startTestVault, TEST_AUTHORITY } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { canonicalEvent, chainHash, eventMac, GENESIS_HASH, headMac, verifyAuditChain, appendAudit } from '../../vault-server/modules/audit/audit-store.js';
import type { AuditKeys } from '../../vault-server/modules/audit/audit-store.js';
import { ensureAuditKeys, loadAuditKeys } from '../../vault-server/modules/audit/audit-keys.js';
import { checkCheckpoint } from '../../vault-server/cli/audit-checkpoint-check.js';
import { parseCheckpoint, verifyCheckpointSignature } from '../../protocol/audit-checkpoint.js';
import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';
import { Keyring } from '../../vault-server/crypto/keyring.js';
import { generateRootKey } from '../../vault-server/crypto/root-key.js';
import { CodeMigrationProvider } from '../../vault-server/store/migrations/index.js';
import { openStore } from '../../vault-server/store/open-store.js';
import type { Store } from '../../vault-server/store/open-store.js';
import { transaction } from '../../vault-server/store/locks.js';
import { CHECK_KEY, openVaultWithAudit } from '../../vault-server/vault-state.js';
import { buildApp } from '../../vault-server/app.js';
import { writeTx } from '../../vault-server/context.js';
import type { VaultContext } from '../../vault-server/context.js';
import { pruneAudit } from '../../vault-server/modules/audit/audit-retention.js';

/**
 * What a database editor does: deletes the events `drop`, renumbers and re-hashes the rest with
 * SHA-256 (exactly as the vault does) and moves the head. With `macKey` the MACs are recomputed
 * too (an editor who has the key); without it they are left as they were.
 */
async function rewriteChain(store: Pick<Store, 'db'>, drop: number[], macKey?: Buffer): Promise<void> {
  await transaction(store, async (trx) => {
    const rows = await trx.selectFrom('audit_events').selectAll().orderBy('seq', 'asc').execute();
    await trx.deleteFrom('audit_events').execute();
    let prev = GENESIS_HASH;
    let seq = 0;
    let lastMac: string | null = null;
    for (const r of rows.filter((x) => !drop.includes(Number(x.seq)))) {
      seq += 1;
      const content = {
        seq, id: r.id, at: Number(r.at), actorKind: r.actor_kind as 'system', actorId: r.actor_id, action: r.action, projectId: r.project_id,
        target: r.target, outcome: r.outcome as 'success', sourceIp: r.source_ip, details: JSON.parse(r.details) as Record<string, unknown>,
        actorName: r.actor_name,
      };
      const hash = chainHash(prev, canonicalEvent(content));
      const mac = macKey ? eventMac(macKey, hash) : r.mac;
      await trx.insertInto('audit_events').values({ ...r, seq, prev_hash: prev, hash, mac }).execute();
      prev = hash;
      lastMac = mac;
    }
    const head = await trx.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    await trx.updateTable('audit_head').set({ seq, hash: prev, mac: macKey ? headMac(macKey, seq, prev) : (head.mac ?? lastMac) }).where('id', '=', 1).execute();
  }, { write: true });
}

async function someEvents(v: TestVault, n: number, prefix: string): Promise<void> {
  if ((await v.call(v.operator, 'GET', '/v1/projects/p')).status === 404) await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
  for (let i = 0; i < n; i++) {
    const r = await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${prefix}${i}`, { value: `v${i}` });
    assert.equal(r.status, 200, r.raw);
  }
}

const getAs = (v: TestVault) => async <T>(path: string): Promise<T> => {
  const r = await v.call(v.operator, 'GET', path);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.raw}`);
  return r.body as T;
};

forEachStore('keyed audit chain', (s) => {
  test('(a) deleting events, re-hashing the rest with SHA-256 and moving the head: the unkeyed check says ok, audit verify names the first bad seq', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await someEvents(v, 8, 's');
    const before = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean; events: number; macs: number };
    assert.equal(before.ok, true);
    assert.equal(before.macs, before.events, 'every event of a new vault carries a MAC');
    await rewriteChain(v.ctx.store, [3, 4]);
    // What `audit verify` did before the keys (hashes and head only): the rewrite passes.
    assert.equal((await verifyAuditChain(v.ctx.store.db)).ok, true, 'the unkeyed SHA-256 chain is consistent again after the rewrite');
    const after = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean; firstBad?: { seq: number; reason: string } };
    assert.equal(after.ok, false);
    assert.equal(after.firstBad?.seq, 3, JSON.stringify(after.firstBad));
    assert.match(after.firstBad?.reason ?? '', /MAC/);
    // Nor will the vault sign a checkpoint of that head.
    assert.equal((await v.call(v.operator, 'GET', '/v1/audit/head')).status, 500);
    await v.close();
  });

  test('truncating the tail and moving the head back is caught by the head MAC', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await someEvents(v, 4, 't');
    const db = v.ctx.store.db;
    const last = Number((await db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq);
    const prev = await db.selectFrom('audit_events').select(['hash', 'mac']).where('seq', '=', last - 1).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', '=', last).execute();
    await db.updateTable('audit_head').set({ seq: last - 1, hash: prev.hash, mac: prev.mac }).where('id', '=', 1).execute();
    const r = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean; firstBad?: { seq: number; reason: string } };
    assert.equal(r.ok, false);
    assert.equal(r.firstBad?.seq, last - 1);
    assert.match(r.firstBad?.reason ?? '', /head/);
    await v.close();
  });

  test('(b) a rewrite WITH the MAC key past a checkpoint passes audit verify but fails audit verify --checkpoint', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await someEvents(v, 5, 'a');
    const cp = parseCheckpoint(JSON.stringify((await v.call(v.operator, 'GET', '/v1/audit/head')).body));
    verifyCheckpointSignature(cp);
    await someEvents(v, 3, 'b');
    assert.deepEqual(await checkCheckpoint(getAs(v), cp), { ok: true, seq: cp.seq });
    // The MAC key, the way the vault gets it: unwrapped from the store with the root key.
    const keys = await loadAuditKeys(v.ctx.store.db, new Keyring(v.rootKey)) as AuditKeys;
    assert.ok(keys.macKey.equals(v.ctx.auditKeys.macKey));
    await rewriteChain(v.ctx.store, [2], keys.macKey);
    const verify = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean };
    assert.equal(verify.ok, true, 'with the right key, hashes and MACs are consistent again');
    const r = await checkCheckpoint(getAs(v), cp);
    assert.equal(r.ok, false);
    assert.equal(r.seq, cp.seq);
    assert.match(r.reason ?? '', /rewritten/);
    // A checkpoint edited to match, or signed by another key, is refused outright.
    const now = (await v.call(v.operator, 'GET', '/v1/audit/head')).body as AuditCheckpoint;
    await assert.rejects(checkCheckpoint(getAs(v), { ...cp, hash: now.hash }), { code: 'SK_ERR_AUDIT_CHECKPOINT' });
    const other = await startTestVault(await s.openAt(await s.freshLocation()));
    const foreign = (await other.call(other.operator, 'GET', '/v1/audit/head')).body as AuditCheckpoint;
    await assert.rejects(checkCheckpoint(getAs(v), foreign), (err: Error) => /another vault's checkpoint/.test(err.message));
    await other.close();
    await v.close();
  });

  test('a rewind below a checkpoint (truncation with the key) fails audit verify --checkpoint', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await someEvents(v, 4, 'r');
    const cp = (await v.call(v.operator, 'GET', '/v1/audit/head')).body as AuditCheckpoint;
    const seqs = (await v.ctx.store.db.selectFrom('audit_events').select('seq').where('seq', '>=', cp.seq - 1).execute()).map((x) => Number(x.seq));
    await rewriteChain(v.ctx.store, seqs, v.ctx.auditKeys.macKey);
    assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
    const r = await checkCheckpoint(getAs(v), cp);
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /no longer holds event/);
    await v.close();
  });

  /** A vault as the code before migration 0004 made it: migrated to 0003, unkeyed events. */
  async function preKeyVault(): Promise<{ store: Store; rootKey: Buffer; loc: Awaited<ReturnType<typeof s.freshLocation>> }> {
    const loc = await s.freshLocation();
    const raw = await s.openAt(loc, { migrate: false });
    const m = await new Migrator({ db: raw.db, provider: new CodeMigrationProvider(raw.dialect) }).migrateTo('0003-rotation-outcomes');
    assert.equal(m.error, undefined);
    const rootKey = generateRootKey();
    await transaction(raw, async (trx) => {
      await trx.insertInto('vault_meta').values({ key: CHECK_KEY, value: new Keyring(rootKey).checkValue(), updated_at: Date.now() }).execute();
      for (let i = 0; i < 6; i++) {
        await appendAudit(trx, raw.dialect, { actorKind: 'system', actorId: null, action: 'old.event', target: `t${i}`, outcome: 'success', details: { i } });
      }
    }, { write: true });
    await raw.close();
    return { store: await s.openAt(loc), rootKey, loc }; // migrates to the latest: 0004 adds the mac columns
  }

  async function appFor(store: Store, rootKey: Buffer, opts: { acceptBrokenChain?: boolean } = {}): Promise<Awaited<ReturnType<typeof buildApp>> & { auditKeys: AuditKeys }> {
    const { keyring, auditKeys } = await openVaultWithAudit(store, rootKey, opts);
    const built = await buildApp({ store, keyring, auditKeys, log: pino({ level: 'silent' }), authorities: [TEST_AUTHORITY] });
    return { ...built, auditKeys };
  }

  test('(d) an intact pre-key vault: the first start verifies the chain, makes the keys, MACs its history, and later events carry MACs', async () => {
    const { store, rootKey } = await preKeyVault();
    assert.equal((await store.db.selectFrom('audit_events').select('mac').where('mac', 'is not', null).execute()).length, 0);
    const { app, ctx, auditKeys } = await appFor(store, rootKey);
    assert.equal(auditKeys.keyedFrom, 1);
    const created = await store.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.keys.created').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(created.details), { keyVersion: 1, publicKey: auditKeys.publicKey.toString('base64'), keyedFrom: 1, backfilled: 6 });
    await writeTx(ctx, (_t, audit) => audit({ action: 'new.event', target: 'x', outcome: 'success' }));
    const rows = await store.db.selectFrom('audit_events').select(['seq', 'mac']).orderBy('seq').execute();
    assert.equal(rows.length, 8);
    assert.ok(rows.every((r) => r.mac !== null), 'history backfilled and new events MAC\'d');
    const report = await verifyAuditChain(store.db, auditKeys);
    assert.deepEqual(report, { ok: true, events: 8, macs: 8 });
    // Idempotent: a second start loads the same keys and writes nothing.
    const again = await openVaultWithAudit(store, rootKey);
    assert.ok(again.auditKeys.publicKey.equals(auditKeys.publicKey));
    assert.equal((await store.db.selectFrom('audit_events').select('seq').execute()).length, 8);
    // Keys deleted from a keyed store are not silently re-made.
    await store.db.deleteFrom('vault_meta').where('key', 'in', ['audit_mac_key', 'audit_signing_key', 'audit_keyed_from']).execute();
    await assert.rejects(openVaultWithAudit(store, rootKey), { code: 'SK_ERR_AUDIT_KEYS_MISSING' });
    await app.close();
  });

  // PostgreSQL only: two in-process SQLite connections cannot wait for each other (better-sqlite3's
  // busy wait blocks the one event loop both need); between processes BEGIN IMMEDIATE orders them.
  if (s.dialect === 'postgres') test('(d) two vaults starting at once on one pre-key store make one set of keys and one audit.keys.created event', async () => {
    const { store, rootKey, loc } = await preKeyVault();
    const other = await s.openAt(loc); // a second vault process's own connection(s)
    const [a, b] = await Promise.all([openVaultWithAudit(store, rootKey), openVaultWithAudit(other, rootKey)]);
    assert.ok(a.auditKeys.publicKey.equals(b.auditKeys.publicKey));
    assert.equal((await store.db.selectFrom('audit_events').select('seq').where('action', '=', 'audit.keys.created').execute()).length, 1);
    assert.equal((await verifyAuditChain(store.db, a.auditKeys)).ok, true);
  });

  test('(d) a broken pre-key chain stops the first start with the first bad seq, unless --accept-broken-chain, which is audited', async () => {
    const { store, rootKey } = await preKeyVault();
    await store.db.updateTable('audit_events').set({ target: 'forged' }).where('seq', '=', 3).execute();
    await assert.rejects(openVaultWithAudit(store, rootKey), (err: Error & { code?: string }) =>
      err.code === 'SK_ERR_AUDIT_CHAIN' && /broken at event 3 /.test(err.message) && /--accept-broken-chain/.test(err.message));
    assert.equal(await loadAuditKeys(store.db, new Keyring(rootKey)), undefined, 'no keys were made');
    const { app, ctx, auditKeys } = await appFor(store, rootKey, { acceptBrokenChain: true });
    assert.equal(auditKeys.keyedFrom, 7);
    const created = await store.db.selectFrom('audit_events').selectAll().where('seq', '=', 7).executeTakeFirstOrThrow();
    assert.equal(created.action, 'audit.keys.created');
    const details = JSON.parse(created.details) as { keyedFrom: number; backfilled: number; acceptedBrokenChain: { seq: number; reason: string } };
    assert.equal(details.keyedFrom, 7);
    assert.equal(details.backfilled, 0);
    assert.equal(details.acceptedBrokenChain.seq, 3);
    await writeTx(ctx, (_t, audit) => audit({ action: 'new.event', target: 'x', outcome: 'success' }));
    assert.notEqual((await store.db.selectFrom('audit_events').select('mac').where('seq', '=', 8).executeTakeFirstOrThrow()).mac, null);
    assert.deepEqual(await verifyAuditChain(store.db, auditKeys), { ok: true, events: 8, macs: 2, unverifiedBefore: 7 });
    // The accepted prefix cannot be stretched: pointing keyed_from elsewhere fails verification.
    assert.equal((await verifyAuditChain(store.db, { ...auditKeys, keyedFrom: 8 })).ok, false);
    // And the keyed part is protected like any other: an edit after the acceptance is caught.
    await store.db.updateTable('audit_events').set({ target: 'forged' }).where('seq', '=', 8).execute();
    assert.equal((await verifyAuditChain(store.db, auditKeys)).firstBad?.seq, 8);
    await app.close();
  });

  test('retention prunes an accepted broken prefix below audit_keyed_from only while the audit.keys.created event there names it', async () => {
    const { store, rootKey } = await preKeyVault();
    await store.db.updateTable('audit_events').set({ target: 'forged' }).where('seq', '=', 3).execute();
    const { app, ctx, auditKeys } = await appFor(store, rootKey, { acceptBrokenChain: true });
    assert.equal(auditKeys.keyedFrom, 7);
    await writeTx(ctx, (_t, audit) => audit({ action: 'new.event', target: 'x', outcome: 'success' }));
    ctx.now = () => Date.now() + 10 * 86_400_000; // every event is older than the retention
    // vault_meta.audit_keyed_from raised by a database writer, then a restart: refused, nothing deleted.
    await store.db.updateTable('vault_meta').set({ value: Buffer.from('8', 'utf8') }).where('key', '=', 'audit_keyed_from').execute();
    // (A restart: the vault's context with the keys as loaded from the store now.)
    const restart = async (): Promise<VaultContext> => Object.create(ctx, { auditKeys: { value: (await loadAuditKeys(store.db, ctx.keyring))! } }) as VaultContext;
    const raised = await restart();
    assert.equal(raised.auditKeys.keyedFrom, 8);
    await assert.rejects(pruneAudit(raised, 86_400_000), (err: Error & { code?: string }) => err.code === 'SK_ERR_AUDIT_CHAIN' && /audit\.keys\.created/.test(err.message));
    assert.equal((await store.db.selectFrom('audit_events').select('seq').execute()).length, 8, 'nothing was deleted');
    // Put back: the accepted prefix (event 3 included) is pruned behind a signed boundary, and verifies.
    await store.db.updateTable('vault_meta').set({ value: Buffer.from('7', 'utf8') }).where('key', '=', 'audit_keyed_from').execute();
    const restored = await restart();
    assert.equal(restored.auditKeys.keyedFrom, 7);
    const r = await pruneAudit(restored, 86_400_000);
    assert.deepEqual([r.firstSeq, r.lastSeq], [1, 8]);
    const report = await verifyAuditChain(store.db, restored.auditKeys);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.pruned?.lastSeq, 8);
    await app.close();
  });
});

const dir = mkdtempSync(join(tmpdir(), 'sk-audit-keyed-cli-'));
let vault: RunningProcess | undefined;
after(async () => {
  await vault?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('(c) CLI: init --json prints auditPublicKey; audit head is signed by it; audit verify --checkpoint catches a keyed rewrite that plain verify passes', async () => {
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string; auditPublicKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  assert.match(init.auditPublicKey, /^[A-Za-z0-9+/]{43}=$/);
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey + '\n', { mode: 0o600 });
  vault = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0']);
  const url = (await vault.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1] as string;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  const sk = (...args: string[]) => runBin('sikkerkey', args, { env });

  await sk('project', 'create', 'shop');
  for (let i = 0; i < 3; i++) await sk('secret', 'set', 'shop', `s${i}`, '--value', `v${i}`);
  const headRun = await sk('audit', 'head', '--json');
  const head = jsonOf<AuditCheckpoint>(headRun);
  assert.equal(head.publicKey, init.auditPublicKey);
  verifyCheckpointSignature(head);
  assert.throws(() => verifyCheckpointSignature({ ...head, at: head.at + 1 }), { code: 'SK_ERR_AUDIT_CHECKPOINT' });
  const cpFile = join(dir, 'checkpoint.json');
  writeFileSync(cpFile, headRun.stdout);
  await sk('secret', 'set', 'shop', 'later', '--value', 'x');

  const good = await sk('audit', 'verify', '--checkpoint', cpFile, '--json');
  assert.equal(good.code, 0, good.stderr);
  assert.deepEqual(jsonOf<{ ok: boolean; checkpoint: unknown }>(good).checkpoint, { ok: true, seq: head.seq });

  // A keyed rewrite in the store behind the running vault: event 2 (before the checkpoint) goes.
  const store = await openStore({ dataDir });
  try {
    const keys = await ensureAuditKeys(store, new Keyring(Buffer.from(init.rootKey, 'base64')));
    await rewriteChain(store, [2], keys.macKey);
  } finally {
    await store.close();
  }
  const plain = await sk('audit', 'verify', '--json');
  assert.equal(plain.code, 0, plain.stdout);
  const caught = await sk('audit', 'verify', '--checkpoint', cpFile, '--json');
  assert.equal(caught.code, 3, caught.stdout + caught.stderr);
  const body = JSON.parse(caught.stdout) as { ok: boolean; firstBad: { seq: number }; checkpoint: { ok: boolean } };
  assert.equal(body.ok, false);
  assert.equal(body.firstBad.seq, head.seq);
  const human = await sk('audit', 'verify', '--checkpoint', cpFile);
  assert.match(human.stdout, new RegExp(`BROKEN at event ${head.seq}: event ${head.seq} no longer has the checkpoint's hash`));

  writeFileSync(join(dir, 'bad.json'), '{"seq":1}');
  const malformed = await sk('audit', 'verify', '--checkpoint', join(dir, 'bad.json'));
  assert.notEqual(malformed.code, 0);
  assert.match(malformed.stderr, /^error SK_ERR_AUDIT_CHECKPOINT: /);
  const help = await sk('audit', 'verify', '--help');
  assert.match(help.stdout, /--checkpoint <file>/);
});

test('(d) serve on a pre-key vault with a broken chain exits naming the first bad seq; serve --accept-broken-chain starts and audits it', async () => {
  const dataDir = join(dir, 'prekey');
  const raw = await openStore({ dataDir }, { migrate: false });
  const rootKey = generateRootKey();
  try {
    assert.equal((await new Migrator({ db: raw.db, provider: new CodeMigrationProvider(raw.dialect) }).migrateTo('0003-rotation-outcomes')).error, undefined);
    await transaction(raw, async (trx) => {
      await trx.insertInto('vault_meta').values({ key: CHECK_KEY, value: new Keyring(rootKey).checkValue(), updated_at: Date.now() }).execute();
      for (let i = 0; i < 4; i++) await appendAudit(trx, raw.dialect, { actorKind: 'system', actorId: null, action: 'old.event', target: `t${i}`, outcome: 'success' });
    }, { write: true });
    await raw.db.deleteFrom('audit_events').where('seq', '=', 2).execute();
  } finally {
    await raw.close();
  }
  const rootKeyFile = join(dir, 'prekey.root');
  writeFileSync(rootKeyFile, rootKey.toString('base64'), { mode: 0o600 });
  const args = ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0'];
  const refused = await runBin('sikkerkey-vault', args);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /SK_ERR_AUDIT_CHAIN: the existing audit chain is broken at event 2 /);
  assert.match(refused.stderr, /--accept-broken-chain/);
  const accepted = startBin('sikkerkey-vault', [...args, '--accept-broken-chain']);
  try {
    await accepted.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
  } finally {
    await accepted.stop();
  }
  const store = await openStore({ dataDir });
  try {
    const created = await store.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.keys.created').executeTakeFirstOrThrow();
    assert.deepEqual((JSON.parse(created.details) as { acceptedBrokenChain: { seq: number } }).acceptedBrokenChain.seq, 2);
    const keys = await loadAuditKeys(store.db, new Keyring(rootKey)) as AuditKeys;
    assert.equal(keys.keyedFrom, Number(created.seq));
    assert.equal((await verifyAuditChain(store.db, keys)).ok, true);
  } finally {
    await store.close();
  }
});

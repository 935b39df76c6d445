// `POST /v1/projects/:p/import` and `GET /v1/projects/:p/export`: a dotenv file and a JSON file
// round-trip through an import and a machine's reads (quotes, `=`, `#`, spaces, newlines); the
// conflict modes; an import is all or nothing; the export holds metadata and never a value.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { auditEvents, codeOf } from '../support/canary-fixtures.js';
import { parseDotenv, parseImportJson } from '../../vault-server/cli/dotenv-parser.js';

function ok(res: InjectedResponse, status = 200): InjectedResponse {
  assert.equal(res.status, status, res.raw);
  return res;
}

const messageOf = (res: InjectedResponse): string => (res.body as { error: { message: string } }).error.message;

const DOTENV = [
  '# a comment line',
  '',
  'PLAIN=simple-value-1',
  'export EXPORTED=exported-value-2',
  "SINGLE='lit\\n \"eral\" # not a comment'",
  'DOUBLE="line one\\nline \\"two\\" \\\\ end"',
  'MULTI="first line',
  'second line = with # hash"',
  'EQUALS=a=b==c',
  'HASHED=pa#ss  # a trailing comment',
  'SPACED =   inner  spaces   ',
  'EMPTY=',
  '  INDENTED=indented-value-3',
].join('\n') + '\n';

const EXPECTED: Record<string, string> = {
  PLAIN: 'simple-value-1',
  EXPORTED: 'exported-value-2',
  SINGLE: 'lit\\n "eral" # not a comment',
  DOUBLE: 'line one\nline "two" \\ end',
  MULTI: 'first line\nsecond line = with # hash',
  EQUALS: 'a=b==c',
  HASHED: 'pa#ss',
  SPACED: 'inner  spaces',
  EMPTY: '',
  INDENTED: 'indented-value-3',
};

forEachStore('import and export', (s) => {
  let v: TestVault;
  let reader: IdentityKey;
  const read = async (project: string, name: string): Promise<{ version: number; value?: string; fields?: Record<string, string> }> =>
    ok(await v.call(reader, 'GET', `/v1/projects/${project}/secrets/${name}`)).body as { version: number; value?: string; fields?: Record<string, string> };
  const names = async (project: string): Promise<string[]> =>
    (ok(await v.call(v.operator, 'GET', `/v1/projects/${project}/secrets`)).body as { secrets: Array<{ name: string }> }).secrets.map((x) => x.name);

  before(async () => {
    v = await startTestVault(await s.open());
    reader = await v.addMachine('reader');
    for (const p of ['env', 'js', 'modes', 'meta']) {
      ok(await v.call(v.operator, 'POST', '/v1/projects', { name: p }), 201);
      ok(await v.call(v.operator, 'POST', '/v1/grants', { machine: 'reader', project: p }), 201);
    }
  });
  after(async () => v.close());

  test('a dotenv file round-trips: quotes, escapes, =, #, spaces and newlines come back as written', async () => {
    const secrets = parseDotenv(DOTENV);
    assert.deepEqual(Object.fromEntries(secrets.map((x) => [x.name, 'value' in x ? x.value : x.fields])), EXPECTED);
    const res = ok(await v.call(v.operator, 'POST', '/v1/projects/env/import', { secrets }));
    assert.deepEqual(res.body, { project: 'env', created: Object.keys(EXPECTED), skipped: [], newVersions: [] });
    for (const [name, value] of Object.entries(EXPECTED)) assert.deepEqual(await read('env', name), { project: 'env', name, version: 1, value }, name);

    const imports = await auditEvents(v, 'secret.import');
    assert.equal(imports.length, 1);
    assert.deepEqual(imports[0]?.details, { onConflict: 'fail', created: 10, skipped: 0, newVersions: 0, names: { created: Object.keys(EXPECTED), skipped: [], newVersions: [] } });
    const writes = (await auditEvents(v, 'secret.write')).filter((e) => e.target.startsWith('secret:env/'));
    assert.equal(writes.length, 10, 'each secret is audited as its own write too');
    const trail = JSON.stringify(await auditEvents(v)) + v.logs.join('');
    for (const value of Object.values(EXPECTED).filter((x) => x.length > 8)) assert.equal(trail.includes(value), false, 'no value in the audit trail or the logs');
  });

  test('a JSON file round-trips plain and structured secrets', async () => {
    const doc = { API_KEY: 'json "quoted" = # value\nwith newline', db: { host: 'db.internal', password: 'p=a#s s"w\\ord' } };
    const secrets = parseImportJson(JSON.stringify(doc));
    ok(await v.call(v.operator, 'POST', '/v1/projects/js/import', { secrets }));
    assert.equal((await read('js', 'API_KEY')).value, doc.API_KEY);
    assert.deepEqual((await read('js', 'db')).fields, doc.db);
    assert.throws(() => parseImportJson('{"A": 1}'), /"A" must be a string or an object/);
    assert.throws(() => parseImportJson('{"A": {"f": 2}}'), /SK_ERR_USAGE|must be a string/);
    assert.throws(() => parseImportJson('{"A": "unterminated-secret'), (err: Error) => !err.message.includes('unterminated-secret'));
  });

  test('on a conflict: fail refuses the whole import naming the names, skip leaves them, new-version writes a version', async () => {
    ok(await v.call(v.operator, 'PUT', '/v1/projects/modes/secrets/A', { value: 'a-one-value' }));
    ok(await v.call(v.operator, 'PUT', '/v1/projects/modes/secrets/B', { value: 'b-one-value' }));
    const refused = await v.call(v.operator, 'POST', '/v1/projects/modes/import', { secrets: [{ name: 'NEW1', value: 'n-value' }, { name: 'A', value: 'a-two-value' }, { name: 'B', value: 'b-two-value' }] });
    assert.equal(refused.status, 409, refused.raw);
    assert.equal(codeOf(refused), 'SK_ERR_CONFLICT');
    assert.match(messageOf(refused), /"A", "B"/);
    assert.deepEqual((refused.body as { error: { names: string[] } }).error.names, ['A', 'B']);
    assert.equal(refused.raw.includes('two-value'), false);
    assert.deepEqual(await names('modes'), ['A', 'B'], 'nothing of a refused import was written');

    const skipped = ok(await v.call(v.operator, 'POST', '/v1/projects/modes/import', { onConflict: 'skip', secrets: [{ name: 'NEW1', value: 'n-value' }, { name: 'A', value: 'a-two-value' }] }));
    assert.deepEqual(skipped.body, { project: 'modes', created: ['NEW1'], skipped: ['A'], newVersions: [] });
    assert.deepEqual(await read('modes', 'A'), { project: 'modes', name: 'A', version: 1, value: 'a-one-value' });

    const versioned = ok(await v.call(v.operator, 'POST', '/v1/projects/modes/import', { onConflict: 'new-version', secrets: [{ name: 'A', value: 'a-two-value' }, { name: 'NEW2', value: 'n2-value' }] }));
    assert.deepEqual(versioned.body, { project: 'modes', created: ['NEW2'], skipped: [], newVersions: ['A'] });
    assert.deepEqual(await read('modes', 'A'), { project: 'modes', name: 'A', version: 2, value: 'a-two-value' });
    const kindClash = await v.call(v.operator, 'POST', '/v1/projects/modes/import', { onConflict: 'new-version', secrets: [{ name: 'NEW3', value: 'x' }, { name: 'B', fields: { f: 'x' } }] });
    assert.equal(codeOf(kindClash), 'SK_ERR_CONFLICT', kindClash.raw);
    assert.deepEqual(await names('modes'), ['A', 'B', 'NEW1', 'NEW2'], 'a write failing half-way leaves nothing of the import');
  });

  test('new-version refuses canaries and rotation-managed secrets; invalid, repeated and trashed names; too many secrets', async () => {
    const op = v.operator;
    ok(await v.call(op, 'POST', '/v1/projects/modes/canaries', { name: 'decoy', value: 'decoy-value' }), 201);
    const canary = await v.call(op, 'POST', '/v1/projects/modes/import', { onConflict: 'new-version', secrets: [{ name: 'decoy', value: 'x' }] });
    assert.equal(codeOf(canary), 'SK_ERR_CONFLICT', canary.raw);

    ok(await v.call(op, 'PUT', '/v1/projects/modes/secrets/db', { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: 'db-pass-value' } }));
    ok(await v.call(op, 'PUT', '/v1/projects/modes/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'admin-pass-value' } }));
    await v.addMachine('rotator');
    ok(await v.call(op, 'PUT', '/v1/projects/modes/secrets/db/rotation', { provider: 'postgres', agent: 'rotator', adminSecret: 'admin' }));
    const managed = await v.call(op, 'POST', '/v1/projects/modes/import', { onConflict: 'new-version', secrets: [{ name: 'NEW9', value: 'x' }, { name: 'db', fields: { password: 'x' } }] });
    assert.equal(managed.status, 409, managed.raw);
    assert.equal(codeOf(managed), 'SK_ERR_ROTATION_MANAGED');
    assert.match(messageOf(managed), /"db"/);

    const invalid = await v.call(op, 'POST', '/v1/projects/modes/import', { secrets: [{ name: '_bad', value: 'x' }, { name: 'ok', value: 'x' }, { name: 'has space', value: 'x' }] });
    assert.equal(invalid.status, 400, invalid.raw);
    assert.equal(codeOf(invalid), 'SK_ERR_VALIDATION');
    assert.match(messageOf(invalid), /: "_bad", "has space"$/);
    const twice = await v.call(op, 'POST', '/v1/projects/modes/import', { secrets: [{ name: 'T', value: 'x' }, { name: 'T', value: 'y' }] });
    assert.equal(codeOf(twice), 'SK_ERR_VALIDATION');

    const project = await v.ctx.store.db.selectFrom('projects').select('id').where('name', '=', 'modes').executeTakeFirstOrThrow();
    await v.ctx.store.db.updateTable('secrets').set({ deleted_at: Date.now() }).where('project_id', '=', project.id).where('name', '=', 'NEW2').execute();
    const trashed = await v.call(op, 'POST', '/v1/projects/modes/import', { onConflict: 'skip', secrets: [{ name: 'NEW2', value: 'x' }] });
    assert.equal(codeOf(trashed), 'SK_ERR_CONFLICT', trashed.raw);
    assert.match(trashed.raw, /trash/);

    const many = Array.from({ length: 1001 }, (_, i) => ({ name: `S${i}`, value: 'x' }));
    const tooMany = await v.call(op, 'POST', '/v1/projects/modes/import', { secrets: many });
    assert.equal(tooMany.status, 400, tooMany.raw.slice(0, 300));
    const missing = await v.call(op, 'POST', '/v1/projects/nowhere/import', { secrets: [{ name: 'A', value: 'x' }] });
    assert.equal(codeOf(missing), 'SK_ERR_NOT_FOUND');
    // NEW2 is in the trash: listings leave it out.
    assert.deepEqual(await names('modes'), ['A', 'B', 'NEW1', 'admin', 'db', 'decoy']);
  });

  test('an import of 1,000 secrets is one request under its own body limit', async () => {
    ok(await v.call(v.operator, 'POST', '/v1/projects', { name: 'bulk' }), 201);
    const secrets = Array.from({ length: 1000 }, (_, i) => ({ name: `BULK_${i}`, value: 'v'.repeat(1000) }));
    const res = ok(await v.call(v.operator, 'POST', '/v1/projects/bulk/import', { secrets }));
    assert.equal((res.body as { created: string[] }).created.length, 1000);
    const big = await v.call(v.operator, 'POST', '/v1/projects/bulk/import', { secrets: [{ name: 'X', value: 'v'.repeat(60_000) }], pad: 'p'.repeat(5 * 1024 * 1024) });
    assert.equal(big.status, 413, big.raw.slice(0, 300));
  });

  test('an export holds names, kinds, versions, descriptions, tags, grants and rotation policies, never a value', async () => {
    const op = v.operator;
    ok(await v.call(op, 'POST', '/v1/projects/meta/import', { secrets: [{ name: 'api', value: 'meta-api-value' }, { name: 'db', fields: { host: 'h', port: '5432', username: 'u', password: 'meta-db-password' } }, { name: 'admin', fields: { host: 'h', port: '5432', username: 'postgres', password: 'meta-admin-password' } }, { name: 'gone', value: 'meta-gone-value' }] }));
    ok(await v.call(op, 'PUT', '/v1/projects/meta/secrets/api', { value: 'meta-api-value-2' }));
    await v.addMachine('meta-app');
    await v.addMachine('meta-rotator');
    ok(await v.call(op, 'POST', '/v1/grants', { machine: 'meta-app', project: 'meta', secret: 'db', fields: ['host', 'password'] }), 201);
    ok(await v.call(op, 'PUT', '/v1/projects/meta/secrets/db/rotation', { provider: 'postgres', agent: 'meta-rotator', adminSecret: 'admin', schedule: '0 3 * * *', paused: true }));
    const project = await v.ctx.store.db.selectFrom('projects').select('id').where('name', '=', 'meta').executeTakeFirstOrThrow();
    await v.ctx.store.db.updateTable('secrets').set({ description: 'the public API key', tags: JSON.stringify({ team: 'payments' }) }).where('project_id', '=', project.id).where('name', '=', 'api').execute();
    await v.ctx.store.db.updateTable('secrets').set({ deleted_at: Date.now() }).where('project_id', '=', project.id).where('name', '=', 'gone').execute();

    const res = ok(await v.call(op, 'GET', '/v1/projects/meta/export'));
    const body = res.body as { project: string; grants: Array<{ machine: string }>; secrets: Array<Record<string, unknown>> };
    assert.equal(body.project, 'meta');
    assert.deepEqual(body.grants.map((g) => g.machine), ['reader']);
    assert.deepEqual(body.secrets.map((x) => x.name), ['admin', 'api', 'db'], 'a secret in the trash is not exported');
    const api = body.secrets.find((x) => x.name === 'api');
    assert.deepEqual(api, { name: 'api', kind: 'plain', version: 2, isCanary: false, description: 'the public API key', tags: { team: 'payments' }, grants: [], rotation: null });
    const db = body.secrets.find((x) => x.name === 'db');
    assert.deepEqual(db?.grants, [{ machine: 'meta-app', fields: ['host', 'password'] }]);
    assert.deepEqual(db?.rotation, { provider: 'postgres', strategy: 'single', schedule: '0 3 * * *', timezone: null, enabled: false, paused: true, pausedReason: null, agent: { machine: 'meta-rotator' }, adminSecret: 'admin' });
    assert.equal(/meta-[a-z]+-(value|password)/.test(res.raw), false, 'no value in an export');

    await v.ctx.store.db.updateTable('projects').set({ deleted_at: Date.now() }).where('id', '=', project.id).execute();
    assert.equal(codeOf(await v.call(op, 'GET', '/v1/projects/meta/export')), 'SK_ERR_NOT_FOUND', 'a project in the trash is not found');
    assert.equal(codeOf(await v.call(op, 'POST', '/v1/projects/meta/import', { secrets: [{ name: 'x', value: 'x' }] })), 'SK_ERR_NOT_FOUND');
  });
});

/**
 * The MongoDB provider through the real `mongodb` driver against the MongoDB wire test server
 * (a test double: no MongoDB can be installed here; see test/support/mongo-wire-server.ts).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { asUser, expectProviderError, mongoSecret } from '../support/mongo-provider-fixtures.js';
import { createMongoProvider, mongodbProvider, scramNameRoundTrips } from '../../providers/mongodb/index.js';
import type { MongoProvider } from '../../providers/mongodb/index.js';
import { loadProvider } from '../../providers/registry.js';
import type { CredentialProvider } from '../../providers/provider.js';
import { SikkerKeyError } from '../../protocol/errors.js';

const ROOT_PWD = 'root-Secret-8c1f0e';
const APP_PWD = 'app-Secret-1d2e3f';
const WEAK_PWD = 'weak-Secret-4a5b6c';
const SCOPED_PWD = 'scoped-Secret-7d8e9f';
const SVC_PWD = 'svc-Secret-0a1b2c';
/** Every password any test here hands out: none may ever appear in an error. */
const ALL_SECRETS: string[] = [ROOT_PWD, APP_PWD, WEAK_PWD, SCOPED_PWD, SVC_PWD];

function pw(label: string): string {
  const value = `${label}-${Math.random().toString(36).slice(2)}-Pw`;
  ALL_SECRETS.push(value);
  return value;
}

describe('MongoDB provider (MongoDB wire test server)', () => {
  let srv: MongoWireTestServer;
  const open: MongoProvider[] = [];

  /** Low timeouts so failures are fast; every provider is closed after its test. */
  function provider(): MongoProvider {
    const p = createMongoProvider({ serverSelectionTimeoutMS: 400 });
    open.push(p);
    return p;
  }

  async function rootProvider(target: Record<string, string> = {}): Promise<MongoProvider> {
    const p = provider();
    await p.initialize({ admin: mongoSecret(srv, 'root', ROOT_PWD), target: mongoSecret(srv, 'app', APP_PWD, target) });
    return p;
  }

  before(async () => {
    srv = await MongoWireTestServer.start({
      users: [
        { db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] },
        { db: 'admin', user: 'app', pwd: APP_PWD, roles: [{ role: 'readWrite', db: 'appdb' }] },
        { db: 'admin', user: 'weak', pwd: WEAK_PWD, roles: [{ role: 'readWrite', db: 'admin' }, { role: 'read', db: 'appdb' }] },
        // A user administrator of appdb only, and a user defined on appdb.
        { db: 'admin', user: 'scoped', pwd: SCOPED_PWD, roles: [{ role: 'userAdmin', db: 'appdb' }] },
        { db: 'appdb', user: 'svc', pwd: SVC_PWD, roles: [{ role: 'readWrite', db: 'appdb' }] },
      ],
    });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });
  after(async () => {
    await srv.stop();
  });

  test('initialize logs in as the admin and reports the server version (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    assert.equal(p.engine, 'mongodb');
    const again = provider();
    const res = await again.initialize({ admin: mongoSecret(srv, 'root', ROOT_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
    assert.equal(res.serverVersion, 'MongoDB 7.0.14');
    const ran = srv.commands().filter((r) => r.name === 'buildInfo').at(-1);
    assert.deepEqual(ran?.authenticatedAs, { user: 'root', db: 'admin' }, 'buildInfo ran on a logged-in admin connection');
  });

  test('setPassword sends updateUser with the name and password as BSON fields, then the new password logs in and the old one is refused (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    const next = pw('app-next');
    await p.setPassword({ username: 'app', password: next });
    const sent = srv.commands().filter((r) => r.name === 'updateUser').at(-1);
    assert.deepEqual(
      { updateUser: sent?.body.updateUser, pwd: sent?.body.pwd, mechanisms: sent?.body.mechanisms, db: sent?.db },
      { updateUser: 'app', pwd: 'xxx', mechanisms: ['SCRAM-SHA-256'], db: 'admin' },
    );
    assert.deepEqual(await p.verify({ username: 'app', password: next }), { serverVersion: 'MongoDB 7.0.14' });
    const err = await expectProviderError(p.verify({ username: 'app', password: APP_PWD }), 'SK_ERR_PROVIDER_AUTH_FAILED', ALL_SECRETS);
    assert.match(err.message, /"app"/);
    assert.equal((err.cause as { code?: unknown }).code, 18, 'the driver saw MongoDB code 18');
    // put the seed password back for the other tests
    await p.setPassword({ username: 'app', password: APP_PWD });
  });

  test('applying the same credential twice leaves it working: setPassword is idempotent (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    const next = pw('idem');
    const writes = (): number => srv.users().find((u) => u.user === 'app' && u.db === 'admin')?.credentialWrites ?? -1;
    const start = writes();
    await p.setPassword({ username: 'app', password: next });
    await p.setPassword({ username: 'app', password: next });
    assert.equal(writes(), start + 2, 'both updates reached the server');
    await p.verify({ username: 'app', password: next });
    await p.setPassword({ username: 'app', password: APP_PWD });
    await p.verify({ username: 'app', password: APP_PWD });
  });

  test('a wrong admin password and an unknown admin user both fail with SK_ERR_PROVIDER_AUTH_FAILED from MongoDB code 18 (MongoDB wire test server)', async () => {
    const wrong = pw('wrong');
    for (const admin of [mongoSecret(srv, 'root', wrong), mongoSecret(srv, 'nobody-here', ROOT_PWD)]) {
      const err = await expectProviderError(
        provider().initialize({ admin, target: mongoSecret(srv, 'app', APP_PWD) }),
        'SK_ERR_PROVIDER_AUTH_FAILED',
        ALL_SECRETS,
      );
      assert.equal((err.cause as { code?: unknown }).code, 18);
      assert.ok(err.message.includes(JSON.stringify(admin['username'])), 'the message names the user');
    }
  });

  test('an admin without user-admin rights gets SK_ERR_PROVIDER_PRIVILEGE from MongoDB code 13, and nothing changes (MongoDB wire test server)', async () => {
    const p = provider();
    await p.initialize({ admin: mongoSecret(srv, 'weak', WEAK_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
    const next = pw('denied');
    const err = await expectProviderError(p.setPassword({ username: 'app', password: next }), 'SK_ERR_PROVIDER_PRIVILEGE', ALL_SECRETS);
    assert.equal((err.cause as { code?: unknown }).code, 13);
    assert.match(err.message, /userAdmin/);
    await asUser(srv, 'app', APP_PWD, (c) => c.db('admin').command({ ping: 1 }));
  });

  test('a user that does not exist gives SK_ERR_PROVIDER_USER_NOT_FOUND from MongoDB code 11 (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    const err = await expectProviderError(
      p.setPassword({ username: 'ghost-user', password: pw('ghost') }),
      'SK_ERR_PROVIDER_USER_NOT_FOUND',
      ALL_SECRETS,
    );
    assert.equal((err.cause as { code?: unknown }).code, 11);
    assert.match(err.message, /"ghost-user"/);
  });

  test('MongoDB keeps one password per user: the provider has only setPassword, as its engine table row says (MongoDB wire test server)', async () => {
    const p: CredentialProvider = await rootProvider();
    assert.deepEqual([...p.operations], ['setPassword']);
    assert.equal(p.addPassword, undefined);
    assert.equal(p.removePassword, undefined);
    assert.equal(p.discardRetained, undefined);
  });

  test('hostile usernames and passwords rotate and log in, passed as arguments and never as text (MongoDB wire test server)', async () => {
    const names = [
      `we"ird'; DROP`,
      'back\\slash\\',
      '  spaces inside and around  ',
      'ünïcødé-用户-🔑',
      'eq=ual,comma',
      'many=equals=signs=',
      `${'long-'.repeat(16)}end`,
      '$dollar.and.dots',
      'tab\tnewline\n',
    ];
    const passwords = [
      `p"a'ss; DROP TABLE users;--`,
      'back\\slash\\\\ and $dollar',
      'ünïcødé-пароль-密码',
      'sp aces =,= commas n=,r=,p=',
      '%41%42 @:/?# url-ish &tls=false',
      `${'x'.repeat(120)}-long`,
    ];
    ALL_SECRETS.push(...passwords);
    const p = await rootProvider();
    await asUser(srv, 'root', ROOT_PWD, async (c) => {
      for (const name of names) await c.db('admin').command({ createUser: name, pwd: 'initial-Pw-0', roles: [] });
    });
    try {
      for (const [i, name] of names.entries()) {
        const password = passwords[i % passwords.length] ?? 'unreachable';
        await p.setPassword({ username: name, password });
        const sent = srv.commands().filter((r) => r.name === 'updateUser').at(-1);
        assert.equal(sent?.body.updateUser, name, 'the exact name reached the server as one BSON string');
        await p.verify({ username: name, password });
        await expectProviderError(p.verify({ username: name, password: 'initial-Pw-0' }), 'SK_ERR_PROVIDER_AUTH_FAILED', passwords);
      }
      // The same passwords on the one user, so every password shape is proven to log in.
      for (const password of passwords) {
        await p.setPassword({ username: names[0] ?? '', password });
        await p.verify({ username: names[0] ?? '', password });
      }
    } finally {
      await asUser(srv, 'root', ROOT_PWD, async (c) => {
        for (const name of names) await c.db('admin').command({ dropUser: name });
      });
    }
  });

  test('names the driver cannot send intact in SCRAM (two commas, a later "=3D") rotate but do not log in, as with MongoDB, and preflight says so (MongoDB wire test server)', async () => {
    const mangled = ['a,b,c', '=2C=3D literal'];
    assert.deepEqual(mangled.map(scramNameRoundTrips), [false, false]);
    assert.deepEqual(['eq=ual,comma', 'many=equals=signs=', 'plain'].map(scramNameRoundTrips), [true, true, true]);
    await asUser(srv, 'root', ROOT_PWD, async (c) => {
      for (const name of mangled) await c.db('admin').command({ createUser: name, pwd: 'initial-Pw-0', roles: [] });
    });
    try {
      const p = await rootProvider();
      for (const name of mangled) {
        const next = pw('mangled');
        await p.setPassword({ username: name, password: next });
        const err = await expectProviderError(p.verify({ username: name, password: next }), 'SK_ERR_PROVIDER_AUTH_FAILED', ALL_SECRETS);
        assert.match(err.message, /cannot send this username intact/);
      }
      const report = await p.preflight({ usernames: mangled, strategy: 'single' });
      assert.equal(report.ok, false);
      assert.equal(report.problems.filter((line) => line.includes('escapes only the first')).length, 2, report.problems.join('\n'));
    } finally {
      await asUser(srv, 'root', ROOT_PWD, async (c) => {
        for (const name of mangled) await c.db('admin').command({ dropUser: name });
      });
    }
  });

  test('a password SASLprep prohibits is refused by the server and the old one keeps working (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    // U+0007 is a control character: RFC 4013 prohibits it, so MongoDB cannot store it.
    const bad = pw('bell\u0007');
    const err = await expectProviderError(p.setPassword({ username: 'app', password: bad }), 'SK_ERR_PROVIDER_FAILED', ALL_SECRETS);
    assert.equal((err.cause as { code?: unknown }).code, 2);
    await p.verify({ username: 'app', password: APP_PWD });
  });

  test('rotates a user defined on another database through its authSource, with an admin scoped to that database (MongoDB wire test server)', async () => {
    const p = provider();
    await p.initialize({
      admin: mongoSecret(srv, 'scoped', SCOPED_PWD),
      target: mongoSecret(srv, 'svc', SVC_PWD, { authSource: 'appdb' }),
    });
    const next = pw('svc');
    await p.setPassword({ username: 'svc', password: next });
    assert.equal(srv.commands().filter((r) => r.name === 'updateUser').at(-1)?.db, 'appdb');
    await p.verify({ username: 'svc', password: next });
    assert.deepEqual(await p.preflight({ usernames: ['svc'], strategy: 'single' }), { ok: true, problems: [] });
    await p.setPassword({ username: 'svc', password: SVC_PWD });

    // The same admin may not touch users of the admin database.
    const q = provider();
    await q.initialize({ admin: mongoSecret(srv, 'scoped', SCOPED_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
    await expectProviderError(q.setPassword({ username: 'app', password: pw('x') }), 'SK_ERR_PROVIDER_PRIVILEGE', ALL_SECRETS);
  });

  test('preflight passes for a capable admin and names each problem in operator words otherwise (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    assert.deepEqual(await p.preflight({ usernames: ['app'], strategy: 'single' }), { ok: true, problems: [] });
    const missing = await p.preflight({ usernames: ['app', 'not-a-user'], strategy: 'alternating' });
    assert.equal(missing.ok, false);
    assert.deepEqual(missing.problems, ['user "not-a-user" does not exist on database "admin": create it, or fix "username" / "authSource"']);

    const weak = provider();
    await weak.initialize({ admin: mongoSecret(srv, 'weak', WEAK_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
    const writesBefore = srv.users().map((u) => u.credentialWrites);
    const report = await weak.preflight({ usernames: ['app'], strategy: 'single' });
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((l) => l.includes('lacks changePassword on database "admin"') && l.includes('userAdmin')), report.problems.join('\n'));
    assert.ok(report.problems.some((l) => l.includes('may not view users')), report.problems.join('\n'));
    assert.deepEqual(srv.users().map((u) => u.credentialWrites), writesBefore, 'preflight changed nothing');
  });

  test('an unreachable port fails fast with SK_ERR_PROVIDER_CONNECT (MongoDB wire test server)', async () => {
    const closed = await MongoWireTestServer.start();
    const port = closed.port;
    await closed.stop();
    const started = Date.now();
    const err = await expectProviderError(
      provider().initialize({ admin: { ...mongoSecret(srv, 'root', ROOT_PWD), port: String(port) }, target: mongoSecret(srv, 'app', APP_PWD) }),
      'SK_ERR_PROVIDER_CONNECT',
      ALL_SECRETS,
    );
    assert.ok(Date.now() - started < 15_000, 'within seconds (a generous bound for a shared machine; the driver\'s own default would wait 30 s)');
    assert.match(err.message, /ECONNREFUSED/);
    // verification against an unreachable target maps the same way
    const p = await rootProvider({ port: String(port) });
    await expectProviderError(p.verify({ username: 'app', password: APP_PWD }), 'SK_ERR_PROVIDER_CONNECT', ALL_SECRETS);
  });

  test('a server that accepts connections but never answers fails initialize with SK_ERR_PROVIDER_CONNECT (MongoDB wire test server)', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      await expectProviderError(
        provider().initialize({ admin: { ...mongoSecret(srv, 'root', ROOT_PWD), port: String(port) }, target: mongoSecret(srv, 'app', APP_PWD) }),
        'SK_ERR_PROVIDER_CONNECT',
        ALL_SECRETS,
      );
      assert.ok(Date.now() - started < 15_000, 'within seconds (a generous bound for a shared machine; the driver\'s own default would wait 30 s)');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('an updateUser whose reply never comes fails within socketTimeoutMS with SK_ERR_PROVIDER_CONNECT and says the outcome is unknown (MongoDB wire test server)', async () => {
    const p = createMongoProvider({ serverSelectionTimeoutMS: 400, socketTimeoutMS: 500 });
    open.push(p);
    await p.initialize({ admin: mongoSecret(srv, 'root', ROOT_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
    srv.stallCommand('updateUser');
    try {
      const started = Date.now();
      const err = await expectProviderError(p.setPassword({ username: 'app', password: pw('stalled') }), 'SK_ERR_PROVIDER_CONNECT', ALL_SECRETS);
      assert.ok(Date.now() - started < 15_000, 'within seconds (a generous bound for a shared machine; the driver\'s own default would wait 30 s)');
      assert.match(err.message, /unknown: verify before retrying/);
    } finally {
      srv.stallCommand('updateUser', false);
    }
    await p.verify({ username: 'app', password: APP_PWD });
  });

  test('invalid secrets are SK_ERR_PROVIDER_CONFIG before any connection: no host, bad tls, a host that would smuggle options, unreadable caFile (MongoDB wire test server)', async () => {
    const target = mongoSecret(srv, 'app', APP_PWD);
    const good = mongoSecret(srv, 'root', ROOT_PWD);
    const cases: Array<Record<string, string>> = [
      { ...good, host: '' },
      { ...good, tls: 'prefer' },
      { ...good, host: '127.0.0.1/?authMechanism=PLAIN' },
      { ...good, host: 'a.example,b.example' },
      { ...good, port: 'abc' },
      { ...good, password: '' },
      { ...good, authSource: 'bad/db' },
      { ...good, tls: 'require', caFile: '/nonexistent/ca.pem' },
    ];
    // Handshakes count connections (a previous client's endSessions may still trickle in).
    const handshakes = (): number => srv.commands().filter((r) => /^(hello|isMaster|ismaster)$/.test(r.name)).length;
    const before = handshakes();
    for (const admin of cases) {
      await expectProviderError(provider().initialize({ admin, target }), 'SK_ERR_PROVIDER_CONFIG', ALL_SECRETS);
    }
    assert.equal(handshakes(), before, 'no connection was attempted');
    const p = await rootProvider();
    await expectProviderError(p.setPassword({ username: '', password: pw('e') }), 'SK_ERR_PROVIDER_CONFIG', ALL_SECRETS);
    await expectProviderError(p.setPassword({ username: 'app', password: '' }), 'SK_ERR_PROVIDER_CONFIG', ALL_SECRETS);
  });

  test('secretValues lists every secret handed over; close is safe twice and later use is refused (MongoDB wire test server)', async () => {
    const p = await rootProvider();
    const next = pw('listed');
    await p.setPassword({ username: 'app', password: next });
    await p.verify({ username: 'app', password: next });
    await p.setPassword({ username: 'app', password: APP_PWD });
    const values = p.secretValues();
    for (const v of [ROOT_PWD, APP_PWD, next]) assert.ok(values.includes(v));
    await p.close();
    await p.close();
    await assert.rejects(p.setPassword({ username: 'app', password: next }), (err: unknown) => err instanceof SikkerKeyError);
  });

  test('isConnected() is true from initialize() until close(): the driver replaces a closed connection itself (MongoDB wire test server)', async () => {
    const p = provider();
    assert.equal(p.isConnected(), false, 'not connected before initialize()');
    await p.initialize({ admin: mongoSecret(srv, 'root', ROOT_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
    assert.equal(p.isConnected(), true, 'connected after initialize()');
    await p.close();
    assert.equal(p.isConnected(), false, 'not connected after close()');
  });

  test('the provider registry loads this provider lazily by engine name (MongoDB wire test server)', async () => {
    const loaded = await loadProvider('mongodb');
    assert.equal(loaded.engine, 'mongodb');
    const direct = mongodbProvider();
    try {
      const res = await loaded.initialize({ admin: mongoSecret(srv, 'root', ROOT_PWD), target: mongoSecret(srv, 'app', APP_PWD) });
      assert.match(res.serverVersion, /^MongoDB 7\./);
      assert.equal(direct.engine, 'mongodb');
    } finally {
      await loaded.close();
      await direct.close();
    }
  });
});

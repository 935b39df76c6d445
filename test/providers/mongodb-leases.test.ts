/**
 * Leased logins on MongoDB (providers/mongodb/mongo-leases.ts) through the real `mongodb` driver
 * against the MongoDB wire TEST DOUBLE (no MongoDB can be installed here): these tests assert the
 * commands sent and what the double's user store holds. Privilege enforcement of a leased login
 * is asserted on real servers only (PostgreSQL, MariaDB, Redis), not here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMongoProvider } from '../../providers/mongodb/index.js';
import type { MongoProvider } from '../../providers/mongodb/index.js';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { asUser, expectProviderError, mongoSecret } from '../support/mongo-provider-fixtures.js';

const ROOT_PWD = 'root-Secret-5e6f7a';
const LEASE_PWD = 'lease-Secret-\'"; x';

describe('mongodb leases (wire double)', () => {
  let srv: MongoWireTestServer;
  let provider: MongoProvider;

  before(async () => {
    srv = await MongoWireTestServer.start({ users: [{ db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] }] });
    provider = createMongoProvider({ serverSelectionTimeoutMS: 1000 });
    await provider.initialize({ admin: mongoSecret(srv, 'root', ROOT_PWD), target: { host: srv.host, port: String(srv.port), username: 'probe', authSource: 'admin' } });
  });
  after(async () => {
    await provider?.close();
    await srv?.stop();
  });

  const sent = (name: string, from: number) => srv.commands().slice(from).filter((c) => c.name === name);

  test('wire double: createLogin sends createUser with the grant\'s roles and SCRAM-SHA-256; the login then works', async () => {
    const from = srv.commands().length;
    await provider.createLogin({ username: 'sk0a1b2c_app_aaaa', password: LEASE_PWD, grant: { roles: [{ role: 'readWrite', db: 'app' }] }, validUntil: 0 });
    const [create] = sent('createUser', from);
    assert.equal(create?.body.createUser, 'sk0a1b2c_app_aaaa');
    assert.equal(create?.db, 'admin');
    assert.deepEqual(create?.body.roles, [{ role: 'readWrite', db: 'app' }]);
    assert.deepEqual(create?.body.mechanisms, ['SCRAM-SHA-256']);
    assert.ok(!JSON.stringify(create?.body).includes(LEASE_PWD), 'the double redacts pwd in its log as mongod does');
    await provider.verify({ username: 'sk0a1b2c_app_aaaa', password: LEASE_PWD });
    assert.deepEqual(srv.users().find((u) => u.user === 'sk0a1b2c_app_aaaa')?.roles, [{ role: 'readWrite', db: 'app' }]);
  });

  test('wire double: a second createLogin of the same name falls back to updateUser with the new password', async () => {
    const from = srv.commands().length;
    const second = 'lease-Second-9f8e';
    await provider.createLogin({ username: 'sk0a1b2c_app_aaaa', password: second, grant: { roles: [{ role: 'read', db: 'app' }] }, validUntil: 0 });
    assert.equal(sent('createUser', from).length, 1);
    const [update] = sent('updateUser', from);
    assert.equal(update?.body.updateUser, 'sk0a1b2c_app_aaaa');
    assert.deepEqual(update?.body.roles, [{ role: 'read', db: 'app' }]);
    await provider.verify({ username: 'sk0a1b2c_app_aaaa', password: second });
    await expectProviderError(provider.verify({ username: 'sk0a1b2c_app_aaaa', password: LEASE_PWD }), 'SK_ERR_PROVIDER_AUTH_FAILED', [LEASE_PWD, second]);
  });

  test('wire double: listLogins reads usersInfo and keeps the names with the prefix', async () => {
    await provider.createLogin({ username: 'sk0a1b2c_other_bbbb', password: 'p-1-x', grant: { roles: [{ role: 'read', db: 'app' }] }, validUntil: 0 });
    await provider.createLogin({ username: 'skffffff_foreign_cccc', password: 'p-2-x', grant: { roles: [{ role: 'read', db: 'app' }] }, validUntil: 0 });
    assert.deepEqual(await provider.listLogins({ prefix: 'sk0a1b2c_' }), ['sk0a1b2c_app_aaaa', 'sk0a1b2c_other_bbbb']);
    assert.deepEqual(await provider.listLogins({ prefix: 'sk' }), ['sk0a1b2c_app_aaaa', 'sk0a1b2c_other_bbbb', 'skffffff_foreign_cccc']);
  });

  test('wire double: dropLogin sends dropUser then killAllSessionsByPattern for the user; an open connection loses its rights', async () => {
    const password = 'lease-Drop-1a2b';
    await provider.createLogin({ username: 'sk0a1b2c_drop_dddd', password, grant: { roles: [{ role: 'userAdmin', db: 'admin' }] }, validUntil: 0 });
    await asUser(srv, 'sk0a1b2c_drop_dddd', password, async (client) => {
      await client.db('admin').command({ usersInfo: 1 }); // allowed while the lease lives
      const from = srv.commands().length;
      await provider.dropLogin({ username: 'sk0a1b2c_drop_dddd' });
      const names = srv.commands().slice(from).filter((c) => c.connectionId !== undefined && ['dropUser', 'killAllSessionsByPattern'].includes(c.name));
      assert.deepEqual(names.map((c) => c.name), ['dropUser', 'killAllSessionsByPattern']);
      assert.deepEqual(names[1]?.body.killAllSessionsByPattern, [{ users: [{ user: 'sk0a1b2c_drop_dddd', db: 'admin' }] }]);
      assert.equal(names[1]?.db, 'admin');
      await assert.rejects(client.db('admin').command({ usersInfo: 1 }), 'the open connection lost its rights');
    });
    await expectProviderError(provider.verify({ username: 'sk0a1b2c_drop_dddd', password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password]);
    // idempotent: a missing user is a no-op, and its sessions are still killed
    const from = srv.commands().length;
    await provider.dropLogin({ username: 'sk0a1b2c_drop_dddd' });
    assert.equal(sent('killAllSessionsByPattern', from).length, 1);
  });

  test('wire double: a grant without roles is a config error and no command is sent', async () => {
    const from = srv.commands().length;
    await expectProviderError(provider.createLogin({ username: 'sk0a1b2c_bad', password: 'x-1', grant: { acl: '+@read' }, validUntil: 0 }), 'SK_ERR_PROVIDER_CONFIG', []);
    assert.equal(sent('createUser', from).length, 0);
  });
});

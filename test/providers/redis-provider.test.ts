// Redis specifics beyond the conformance suite, on private redis-servers started here: the
// requirepass mode of the default user, persistence through an aclfile, and preflight's reading
// of ACL rules, and isConnected() once the server killed the admin connection. The shared Redis is
// not touched by this file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { expectCode } from '../../providers/conformance.js';
import type { CredentialProvider, DatabaseSecret } from '../../providers/provider.js';
import { passwordHash, redisProvider } from '../../providers/redis/redis-provider.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { randomTag, startRedisServer, type RedisServer } from '../support/services.js';
import { waitFor } from '../support/wait.js';

async function client(server: RedisServer, auth?: [string, string]): Promise<Redis> {
  const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, protocol: 2, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  await c.connect();
  if (auth !== undefined) await c.call('AUTH', ...auth);
  return c;
}

async function withProvider(admin: DatabaseSecret, target: DatabaseSecret, run: (p: CredentialProvider) => Promise<void>): Promise<void> {
  const provider = redisProvider({ connectTimeoutMs: 2_000 });
  try {
    await provider.initialize({ admin, target });
    await run(provider);
  } finally {
    await provider.close();
  }
}

describe('redis provider: the default user of a requirepass server', () => {
  let server: RedisServer;
  const first = `req-${randomTag(10)}`;
  before(async () => {
    server = await startRedisServer({ requirepass: first });
  });
  after(async () => {
    await server?.stop();
  });

  test('single rotation goes through CONFIG SET requirepass, so the configuration shows the live password', async () => {
    const secret = (password: string): DatabaseSecret => ({ host: server.host, port: String(server.port), username: 'default', password });
    const next = `req-${randomTag(10)}`;
    await withProvider(secret(first), secret(first), async (p) => {
      await p.setPassword({ username: 'default', password: next });
      await p.verify({ username: 'default', password: next });
      await expectCode(p.verify({ username: 'default', password: first }), 'SK_ERR_PROVIDER_AUTH_FAILED', [first, next], 'the old requirepass');
      const err = await expectCode(p.addPassword?.({ username: 'default', password: `x-${randomTag(10)}` }) ?? Promise.reject(new Error('no addPassword')), 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', [first, next], 'dual on requirepass');
      assert.ok(err.message.includes('single'), err.message);
      const res = await p.preflight?.({ usernames: ['default'], strategy: 'dual' });
      assert.equal(res?.ok, false);
    });
    const c = await client(server, ['default', next]);
    try {
      // CONFIG GET is what CONFIG REWRITE writes back: it must hold the new password
      assert.deepEqual(await c.call('CONFIG', 'GET', 'requirepass'), ['requirepass', next]);
    } finally {
      c.disconnect();
    }
  });
});

describe('redis provider: a server with an aclfile', () => {
  let server: RedisServer;
  const adminPassword = `adm-${randomTag(10)}`;
  const appPassword = `app-${randomTag(10)}`;
  before(async () => {
    server = await startRedisServer({
      aclFileContents: [
        'user default off',
        `user sk_admin on #${passwordHash(adminPassword)} -@all +acl +config|get +info +ping`,
        `user sk_narrow on #${passwordHash(adminPassword)} -@all +acl|getuser +acl|setuser +acl|dryrun +config|get +ping`,
        `user app on #${passwordHash(appPassword)} -@all +ping`,
        'user app_off off #0000000000000000000000000000000000000000000000000000000000000000 +ping',
        'user app_nopass on nopass +ping',
        `user sk_blind on #${passwordHash(adminPassword)} -@all +acl +ping`,
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    await server?.stop();
  });
  const secret = (username: string, password: string): DatabaseSecret => ({ host: server.host, port: String(server.port), username, password });

  test('every change is saved to the aclfile: rotate, then dual, then retire', async () => {
    const aclFile = server.aclFile ?? assert.fail('no aclfile');
    const saved = (): string => readFileSync(aclFile, 'utf8').split('\n').find((l) => l.startsWith('user app ')) ?? '';
    const second = `app-${randomTag(10)}`;
    const third = `app-${randomTag(10)}`;
    await withProvider(secret('sk_admin', adminPassword), secret('app', appPassword), async (p) => {
      await p.setPassword({ username: 'app', password: second });
      assert.ok(saved().includes(`#${passwordHash(second)}`) && !saved().includes(passwordHash(appPassword)), 'single rotation not saved');
      await p.addPassword?.({ username: 'app', password: third });
      assert.ok(saved().includes(`#${passwordHash(second)}`) && saved().includes(`#${passwordHash(third)}`), 'dual not saved');
      await p.removePassword?.({ username: 'app', password: second });
      assert.ok(!saved().includes(passwordHash(second)) && saved().includes(`#${passwordHash(third)}`), 'retire not saved');
      await p.verify({ username: 'app', password: third });
    });
    assert.ok(!readFileSync(aclFile, 'utf8').includes(third), 'a plaintext password is in the aclfile');
  });

  test('preflight asks ACL DRYRUN: an admin that may not run ACL SAVE, or CONFIG GET, is told so', async () => {
    await withProvider(secret('sk_narrow', adminPassword), secret('app', appPassword), async (p) => {
      const res = await p.preflight?.({ usernames: ['app'], strategy: 'single' });
      assert.deepEqual(res?.problems, ['admin "sk_narrow" may not run ACL SAVE: run ACL SETUSER sk_narrow +acl|save']);
    });
    await withProvider(secret('sk_admin', adminPassword), secret('app', appPassword), async (p) => {
      assert.deepEqual(await p.preflight?.({ usernames: ['app'], strategy: 'dual' }), { ok: true, problems: [] });
    });
    await withProvider(secret('sk_blind', adminPassword), secret('app', appPassword), async (p) => {
      const res = await p.preflight?.({ usernames: ['app'], strategy: 'single' });
      assert.ok(res?.problems.some((x) => x.includes('CONFIG GET') && x.includes('+config|get')), res?.problems.join(' | '));
    });
  });

  test('preflight reports a user that is off and one with nopass', async () => {
    await withProvider(secret('sk_admin', adminPassword), secret('app', appPassword), async (p) => {
      const res = await p.preflight?.({ usernames: ['app_off', 'app_nopass'], strategy: 'single' });
      assert.ok(res?.problems.some((x) => x.includes('"app_off" is off') && x.includes('ACL SETUSER app_off on')), res?.problems.join(' | '));
      assert.ok(res?.problems.some((x) => x.includes('"app_nopass" has nopass')), res?.problems.join(' | '));
    });
  });

  test('a user name with a space is refused before anything is sent', async () => {
    await withProvider(secret('sk_admin', adminPassword), secret('app', appPassword), async (p) => {
      await expectCode(p.setPassword({ username: 'two words', password: 'spaced-pw-123456' }), 'SK_ERR_PROVIDER_CONFIG', ['spaced-pw-123456'], 'space in name');
    });
  });
});

describe('redis provider over TLS (a tls-port with a self-signed certificate for "localhost")', () => {
  let server: RedisServer;
  const adminPassword = `adm-${randomTag(10)}`;
  let appPassword = `app-${randomTag(10)}`;
  before(async () => {
    server = await startRedisServer({
      tls: true,
      aclFileContents: `user default off\nuser sk_admin on #${passwordHash(adminPassword)} +@all ~*\nuser app on #${passwordHash(appPassword)} -@all +ping\n`,
    });
  });
  after(async () => {
    await server?.stop();
  });
  const secrets = (over: Record<string, string>): { admin: DatabaseSecret; target: DatabaseSecret } => ({
    admin: { host: '127.0.0.1', port: String(server.port), username: 'sk_admin', password: adminPassword, ...over },
    target: { host: '127.0.0.1', port: String(server.port), username: 'app', password: appPassword, ...over },
  });

  // the server has no plain-text port, so a rotation that works here went over TLS
  test('tls require encrypts without checking the certificate; verify-full checks it against caFile and the host name', async () => {
    const caFile = server.caFile ?? assert.fail('no certificate');
    const modes: Record<string, string>[] = [{ tls: 'require' }, { tls: 'verify-full', caFile, host: 'localhost' }];
    for (const over of modes) {
      const { admin, target } = secrets(over);
      await withProvider(admin, target, async (p) => {
        const next = `tls-${randomTag(10)}`;
        await p.setPassword({ username: 'app', password: next });
        await p.verify({ username: 'app', password: next });
        appPassword = next;
      });
    }
  });

  test('verify-full refuses a certificate it cannot trust, or one for another host name', async () => {
    const caFile = server.caFile ?? assert.fail('no certificate');
    const cases: [string, Record<string, string>, 'SK_ERR_PROVIDER_TLS'][] = [
      ['no caFile for a self-signed certificate', { tls: 'verify-full', host: 'localhost' }, 'SK_ERR_PROVIDER_TLS'],
      ['127.0.0.1 is not in the certificate', { tls: 'verify-full', caFile, host: '127.0.0.1' }, 'SK_ERR_PROVIDER_TLS'],
    ];
    for (const [what, over, code] of cases) {
      const p = redisProvider({ connectTimeoutMs: 2_000 });
      const { admin, target } = secrets(over);
      await expectCode(p.initialize({ admin, target }), code, [adminPassword], what);
      await p.close();
    }
  });
});

describe('redis provider: an admin connection the server closes (what the agent pool asks before lending a kept provider)', () => {
  let server: RedisServer;
  const password = `req-${randomTag(10)}`;
  before(async () => {
    server = await startRedisServer({ requirepass: password });
  });
  after(async () => {
    await server?.stop();
  });

  test('isConnected() is true after initialize() and false once the server killed the connection, through the sanitizer and a spread', async () => {
    const secret: DatabaseSecret = { host: server.host, port: String(server.port), username: 'default', password };
    // as the agent holds it: withSanitizer, then spread (AgentDaemon.providerFor)
    const p: CredentialProvider = { ...withSanitizer(redisProvider({ connectTimeoutMs: 2_000 })) };
    try {
      assert.equal(p.isConnected?.(), false, 'not connected before initialize()');
      await p.initialize({ admin: secret, target: secret });
      assert.equal(p.isConnected?.(), true, 'connected after initialize()');
      const killer = await client(server, ['default', password]);
      try {
        // SKIPME yes is the default: every normal connection but the killer's own
        assert.ok(Number(await killer.call('CLIENT', 'KILL', 'TYPE', 'normal')) >= 1, 'the server killed the admin connection');
      } finally {
        killer.disconnect();
      }
      await waitFor(() => p.isConnected?.() === false, { what: 'isConnected() to turn false', timeoutMs: 10_000, intervalMs: 20 });
      assert.equal(p.isConnected?.(), false);
      await p.initialize({ admin: secret, target: secret });
      assert.equal(p.isConnected?.(), true, 'connected again after a new initialize()');
    } finally {
      await p.close();
    }
    assert.equal(p.isConnected?.(), false, 'not connected after close()');
  });
});

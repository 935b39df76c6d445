// Leased logins on Redis (providers/redis/redis-leases.ts), on the real server at REDIS_URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { expectCode } from '../../providers/conformance.js';
import type { CredentialProvider } from '../../providers/provider.js';
import { redisProvider } from '../../providers/redis/index.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';

const url = redisUrl();
await assertReachable('redis', url);
const server = parseServiceUrl(url);
const tag = randomTag();
const prefix = `sk${tag.slice(0, 6)}_`;
let root: Redis;
let provider: CredentialProvider;

const client = (): Redis => {
  const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, protocol: 2, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  c.on('error', () => undefined);
  return c;
};
const secret = { host: server.host, port: String(server.port), username: server.username || 'default', password: server.password };

before(async () => {
  root = client();
  await root.connect();
  if (server.password !== '') await root.call('AUTH', server.username || 'default', server.password);
  provider = withSanitizer(redisProvider());
  await provider.initialize({ admin: secret, target: { host: server.host, port: String(server.port) } });
});
after(async () => {
  await provider?.close();
  const users = (await root.call('ACL', 'USERS')) as string[];
  for (const u of users.filter((x) => x.startsWith(prefix))) await root.call('ACL', 'DELUSER', u);
  root?.disconnect();
});

async function authed(username: string, password: string): Promise<Redis> {
  const c = client();
  await c.connect();
  await c.call('AUTH', username, password);
  return c;
}

async function replyOf(run: Promise<unknown>): Promise<string> {
  try {
    return String(await run);
  } catch (err) {
    return (err as Error).message;
  }
}

const hour = 3_600_000;

describe('redis leases', () => {
  test('a leased user logs in with exactly its ACL: it reads its keys, a write or another key is refused by the server', async () => {
    const username = `${prefix}app_${randomTag(3)}`;
    const password = `pw-${randomTag(12)}`;
    await root.set(`lease${tag}:k`, 'v');
    await root.set(`other${tag}:k`, 'v');
    await provider.createLogin!({ username, password, grant: { acl: `~lease${tag}:* +@read` }, validUntil: Date.now() + hour });
    await provider.verify({ username, password });
    const c = await authed(username, password);
    try {
      assert.equal(await c.get(`lease${tag}:k`), 'v');
      assert.match(await replyOf(c.set(`lease${tag}:k`, 'w')), /^NOPERM/, 'SET is outside +@read');
      assert.match(await replyOf(c.get(`other${tag}:k`)), /^NOPERM/, 'another key pattern');
    } finally {
      c.disconnect();
      await root.del(`lease${tag}:k`, `other${tag}:k`);
    }
    await expectCode(provider.verify({ username, password: 'wrong' }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a wrong password');
  });

  test('create is idempotent: a second create leaves exactly the new password and the same rules', async () => {
    const username = `${prefix}idem_${randomTag(3)}`;
    const first = `pw-${randomTag(12)}`;
    const second = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password: first, grant: { acl: '~a:* +get' }, validUntil: Date.now() + hour });
    const before = (await root.call('ACL', 'GETUSER', username)) as unknown[];
    await provider.createLogin!({ username, password: second, grant: { acl: '~a:* +get' }, validUntil: Date.now() + hour });
    const after = (await root.call('ACL', 'GETUSER', username)) as unknown[];
    await provider.verify({ username, password: second });
    await expectCode(provider.verify({ username, password: first }), 'SK_ERR_PROVIDER_AUTH_FAILED', [first, second], 'the first password');
    const field = (reply: unknown[], name: string): unknown => reply[reply.indexOf(name) + 1];
    assert.deepEqual(field(after, 'commands'), field(before, 'commands'));
    assert.deepEqual(field(after, 'keys'), field(before, 'keys'));
    assert.equal((field(after, 'passwords') as unknown[]).length, 1);
  });

  test('drop closes an open connection of the user (CLIENT KILL USER) and the login then fails', async () => {
    const username = `${prefix}drop_${randomTag(3)}`;
    const password = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password, grant: { acl: '~d:* +@read' }, validUntil: Date.now() + hour });
    const open = await authed(username, password);
    assert.equal(await open.get('d:x'), null);
    await provider.dropLogin!({ username });
    assert.notEqual(await replyOf(open.get('d:x')), 'null', 'the open connection no longer answers');
    assert.notEqual(open.status, 'ready');
    open.disconnect();
    assert.ok(!((await root.call('ACL', 'USERS')) as string[]).includes(username), 'the user is gone');
    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a dropped user');
    await provider.dropLogin!({ username });
    await provider.dropLogin!({ username: `${prefix}never_${randomTag(3)}` });
  });

  test('listLogins returns exactly the users with the prefix, sorted', async () => {
    const own = `sk${randomTag(3)}_`;
    for (const username of [`${own}b`, `${own}a`]) await provider.createLogin!({ username, password: `pw-${randomTag(8)}`, grant: { acl: '+get' }, validUntil: 0 });
    assert.deepEqual(await provider.listLogins!({ prefix: own }), [`${own}a`, `${own}b`]);
    for (const username of [`${own}a`, `${own}b`]) await provider.dropLogin!({ username });
    assert.deepEqual(await provider.listLogins!({ prefix: own }), []);
  });

  test('rules that would set a password or the user\'s state are refused before anything reaches the server', async () => {
    for (const acl of ['+get >extra', '+get nopass', 'on +get', '+get #abc', 'reset', '+get resetpass', '<old']) {
      const username = `${prefix}bad_${randomTag(3)}`;
      await expectCode(provider.createLogin!({ username, password: 'pw-1', grant: { acl }, validUntil: 0 }), 'SK_ERR_PROVIDER_CONFIG', [], acl);
      assert.ok(!((await root.call('ACL', 'USERS')) as string[]).includes(username), `${acl}: no user`);
    }
  });

  test('a user name with quotes and a password with spaces and quotes travel as arguments', async () => {
    const username = `${prefix}q"u'o_${randomTag(2)}`;
    const password = `pw ${randomTag(8)} "'; FLUSHALL`;
    await provider.createLogin!({ username, password, grant: { acl: '+get' }, validUntil: 0 });
    await provider.verify({ username, password });
    await provider.dropLogin!({ username });
    assert.ok(!((await root.call('ACL', 'USERS')) as string[]).includes(username));
  });
});

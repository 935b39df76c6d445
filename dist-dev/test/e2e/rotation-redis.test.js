// Rotation end to end on Redis (REDIS_URL, default the shared Redis at 127.0.0.1:6379): a real
// vault process, a real agent process, an ACL user with a password, and an admin ACL user with
// exactly the rights rotation needs. Both users are deleted afterwards; the default user and the
// server's configuration are never touched.
import { before, after } from 'node:test';
import { Redis } from 'ioredis';
import { startRotationHarness } from '../support/rotation-harness.js';
import { defineEngineRotationTests } from '../support/engine-rotation-e2e.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';
const server = parseServiceUrl(redisUrl());
const t = randomTag();
const USER = `sk_e2e_app_${t}`;
const ADMIN = `sk_e2e_adm_${t}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let root;
let h;
const base = { host: server.host, port: String(server.port) };
async function login(user, password) {
    const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
        await c.connect();
        await c.call('AUTH', user, password);
        return (await c.call('PING')) === 'PONG';
    }
    catch (err) {
        if (err instanceof Error && /^WRONGPASS/.test(err.message))
            return false;
        throw err;
    }
    finally {
        c.disconnect();
    }
}
before(async () => {
    await assertReachable('redis', redisUrl());
    root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
    await root.connect();
    await root.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${INITIAL}`, '+ping');
    // what rotation needs: the ACL commands, reading config (aclfile, requirepass), INFO for the version
    await root.call('ACL', 'SETUSER', ADMIN, 'reset', 'on', `>${ADMIN_PASSWORD}`, '+acl', '+config|get', '+info', '+ping');
    h = await startRotationHarness({
        engine: 'redis',
        target: { ...base, username: USER, password: INITIAL },
        admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
    });
});
after(async () => {
    await h?.close();
    await root?.call('ACL', 'DELUSER', USER, ADMIN).catch(() => undefined);
    root?.disconnect();
});
defineEngineRotationTests('redis', () => ({ label: 'redis', harness: h, user: USER, admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD }, login }));
//# sourceMappingURL=rotation-redis.test.js.map
// The Redis provider against the shared Redis (REDIS_URL, default 127.0.0.1:6379), with uniquely
// named ACL users that are deleted afterwards. The default user and global config are never
// touched here (redis-provider.test.ts starts its own servers for that).
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { runConformance } from '../../providers/conformance.js';
import { redisProvider } from '../../providers/redis/index.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';
const url = redisUrl();
await assertReachable('redis', url);
const server = parseServiceUrl(url);
const t = randomTag();
const adminName = `sk_t_adm_${t}`;
const adminPassword = `adm-${randomTag(12)}`;
let root;
before(async () => {
    root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
    await root.connect();
    // exactly what rotation needs: the ACL commands, reading config (aclfile, requirepass), INFO for the version
    await root.call('ACL', 'SETUSER', adminName, 'reset', 'on', `>${adminPassword}`, '+acl', '+config|get', '+info', '+ping');
});
after(async () => {
    await root?.call('ACL', 'DELUSER', adminName).catch(() => undefined);
    root?.disconnect();
});
const secret = (username, password) => ({ host: server.host, port: String(server.port), username, password });
runConformance({
    engine: 'redis',
    flavour: 'redis',
    // short timeouts: the TLS case waits for a handshake a plain-text server never completes
    createProvider: () => redisProvider({ connectTimeoutMs: 1_500 }),
    hostileUsernames: [
        `we"ird';DROP_${t}`,
        `back\\slash\\\\_${t}`,
        `ünï-日本-€-😀_${t}`,
        `>gt<lt#hash!_${t}`,
        `L_${t}_`.padEnd(120, 'x'),
    ],
    setup: async ({ username, password }) => {
        await root.call('ACL', 'DELUSER', username);
        await root.call('ACL', 'SETUSER', username, 'reset', 'on', `>${password}`, '+ping');
        return {
            admin: secret(adminName, adminPassword),
            target: secret(username, password),
            cleanup: async () => {
                await root.call('ACL', 'DELUSER', username);
            },
        };
    },
    setupUnprivilegedAdmin: async () => {
        const name = `sk_t_weak_${randomTag()}`;
        const password = `weak-${randomTag(12)}`;
        await root.call('ACL', 'SETUSER', name, 'reset', 'on', `>${password}`, '+ping', '+info');
        return {
            admin: secret(name, password),
            cleanup: async () => {
                await root.call('ACL', 'DELUSER', name);
            },
        };
    },
});
//# sourceMappingURL=redis-conformance.test.js.map
// The MongoDB provider through the shared conformance suite, against the MongoDB wire test server
// (a test double: no MongoDB can be installed here; it speaks OP_MSG and SCRAM-SHA-256 to the real
// `mongodb` driver). The admin is a userAdminAnyDatabase user, not root, as an operator would set
// it up. The shared suite names its own tests, so the enclosing suite names the double.
import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import { MongoClient, MongoServerError } from 'mongodb';
import { runConformance } from '../../providers/conformance.js';
import { createMongoProvider } from '../../providers/mongodb/index.js';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
const t = randomBytes(4).toString('hex');
const ROOT_PWD = `root-${randomBytes(12).toString('base64url')}`;
const ADMIN_NAME = `sk_t_adm_${t}`;
const ADMIN_PWD = `adm-${randomBytes(12).toString('base64url')}`;
// With MONGO_URL (mongodb://root:pw@host:port/) the same suite runs against a real MongoDB.
const realUrl = process.env['MONGO_URL'];
let srv;
let root;
let host = '';
let port = 0;
const secret = (username, password) => ({
    host,
    port: String(port),
    authSource: 'admin',
    username,
    password,
});
const dropUser = async (name) => {
    try {
        await root.db('admin').command({ dropUser: name });
    }
    catch (err) {
        // already gone is fine (11 UserNotFound)
        if (!(err instanceof MongoServerError && err.code === 11))
            throw err;
    }
};
const createUser = async (name, password, roles) => {
    await dropUser(name);
    await root.db('admin').command({ createUser: name, pwd: password, roles });
};
describe(realUrl ? 'MongoDB on a real server (MONGO_URL)' : 'MongoDB through its wire-protocol test double (MongoDB wire test server)', () => {
    before(async () => {
        if (realUrl) {
            const u = new URL(realUrl);
            host = u.hostname;
            port = Number(u.port || 27017);
            root = new MongoClient(realUrl, { serverSelectionTimeoutMS: 5000, directConnection: true });
            await createUser(ADMIN_NAME, ADMIN_PWD, [{ role: 'userAdminAnyDatabase', db: 'admin' }]);
            return;
        }
        srv = await MongoWireTestServer.start({
            users: [
                { db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] },
                { db: 'admin', user: ADMIN_NAME, pwd: ADMIN_PWD, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
            ],
        });
        host = srv.host;
        port = srv.port;
        console.log(`# MongoDB wire test server on ${srv.host}:${srv.port}`);
        root = new MongoClient(srv.url(), { auth: { username: 'root', password: ROOT_PWD }, serverSelectionTimeoutMS: 2000 });
    });
    after(async () => {
        if (realUrl)
            await dropUser(ADMIN_NAME).catch(() => undefined);
        await root?.close();
        await srv?.stop();
    });
    runConformance({
        engine: 'mongodb',
        flavour: 'mongodb',
        // Each has at most one "=" and one ",": the driver escapes only the first of each in SCRAM.
        hostileUsernames: [
            `we"ird'; DROP_${t}`,
            `back\\slash\\\\_${t}`,
            `space name ${t}`,
            `ünï-日本-€-🔑_${t}`,
            `eq=ual,comma_${t}`,
            `$dollar.dot_${t}`,
            `L_${t}_`.padEnd(90, 'x'),
        ],
        createProvider: () => createMongoProvider({ serverSelectionTimeoutMS: 1000 }),
        setup: async ({ username, password }) => {
            await createUser(username, password, [{ role: 'readWrite', db: 'appdb' }]);
            return {
                admin: secret(ADMIN_NAME, ADMIN_PWD),
                target: secret(username, password),
                cleanup: () => dropUser(username),
            };
        },
        setupUnprivilegedAdmin: async () => {
            const name = `sk_t_weak_${randomBytes(4).toString('hex')}`;
            const password = `weak-${randomBytes(12).toString('base64url')}`;
            await createUser(name, password, [{ role: 'readWrite', db: 'admin' }]);
            return { admin: secret(name, password), cleanup: () => dropUser(name) };
        },
    });
});
//# sourceMappingURL=mongodb-conformance.test.js.map
// Rotation end to end on MongoDB, against the MongoDB wire test server (a test double: no MongoDB
// can be installed here; it speaks OP_MSG and SCRAM-SHA-256 to the real `mongodb` driver). The
// double runs in this test process; the vault and the agent are real processes that reach it over
// TCP. The admin is a userAdminAnyDatabase user, not root, as an operator would set it up.
import { before, after } from 'node:test';
import { MongoClient } from 'mongodb';
import { startRotationHarness } from '../support/rotation-harness.js';
import { defineEngineRotationTests } from '../support/engine-rotation-e2e.js';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { randomTag } from '../support/services.js';
const USER = `sk_e2e_app_${randomTag()}`;
const ADMIN = `sk_e2e_adm_${randomTag()}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let srv;
let h;
let base;
async function login(user, password) {
    const client = new MongoClient(srv.url(), { auth: { username: user, password }, authSource: 'admin', serverSelectionTimeoutMS: 3000 });
    try {
        await client.db('admin').command({ ping: 1 });
        return true;
    }
    catch (err) {
        if (err.code === 18)
            return false; // AuthenticationFailed
        throw err;
    }
    finally {
        await client.close();
    }
}
before(async () => {
    srv = await MongoWireTestServer.start({
        users: [
            { db: 'admin', user: ADMIN, pwd: ADMIN_PASSWORD, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
            { db: 'admin', user: USER, pwd: INITIAL, roles: [{ role: 'readWrite', db: 'appdb' }] },
        ],
    });
    base = { host: srv.host, port: String(srv.port), authSource: 'admin' };
    h = await startRotationHarness({
        engine: 'mongodb',
        target: { ...base, username: USER, password: INITIAL },
        admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
    });
});
after(async () => {
    await h?.close();
    await srv?.stop();
});
defineEngineRotationTests('mongodb (MongoDB wire test server)', () => ({ label: 'mongodb (MongoDB wire test server)', harness: h, user: USER, admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD }, login }));
//# sourceMappingURL=rotation-mongodb.test.js.map
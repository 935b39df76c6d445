/**
 * The MongoDB wire test server (a test double, test/support/mongo-wire-server.ts) checked against
 * the real `mongodb` driver and against raw wire bytes, so the provider tests that run through it
 * prove something about MongoDB and not about a convenient fake.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { MongoClient, MongoServerError } from 'mongodb';
import { BSON, Binary } from 'bson';
import { MongoWireTestServer, WIRE_VERSION } from '../support/mongo-wire-server.js';
import { MSG_MORE_TO_COME, OP_MSG, OP_QUERY, OP_REPLY, crc32c, decodeReply, encodeOpMsg, encodeOpQuery, } from '../support/mongo-wire-protocol.js';
import { ScramSha256Conversation, makeScramSha256Credential } from '../support/mongo-scram.js';
import { RawWireClient } from '../support/mongo-wire-client.js';
import { waitFor } from '../support/wait.js';
const require = createRequire(import.meta.url);
const ROOT_PWD = 'root-Pw-4f9c2a';
const APP_PWD = 'app-Pw-77d1e0';
const WEAK_PWD = 'weak-Pw-2b8e31';
const FAST = { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 };
function clientFor(srv, username, password, extra = {}) {
    return new MongoClient(srv.url(), { ...FAST, auth: { username, password }, authSource: 'admin', ...extra });
}
/** Runs `fn` with a connected client and always closes it. */
async function withClient(client, fn) {
    try {
        return await fn(client);
    }
    finally {
        await client.close();
    }
}
async function serverErrorOf(promise) {
    try {
        await promise;
    }
    catch (err) {
        assert.ok(err instanceof MongoServerError, `expected a MongoServerError, got ${String(err)}`);
        return err;
    }
    assert.fail('expected the command to fail');
}
describe('MongoDB wire test server against the real driver', () => {
    let srv;
    before(async () => {
        srv = await MongoWireTestServer.start({
            users: [
                { db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] },
                { db: 'admin', user: 'app', pwd: APP_PWD, roles: [{ role: 'readWrite', db: 'appdb' }] },
                { db: 'admin', user: 'weak', pwd: WEAK_PWD, roles: [{ role: 'readWrite', db: 'admin' }] },
            ],
        });
    });
    after(async () => {
        await srv.stop();
    });
    test('advertises a wire-version range the installed mongodb driver accepts, and the driver connects, authenticates and pings (MongoDB wire test server)', async () => {
        const pkg = require('mongodb/package.json');
        const constants = require('mongodb/lib/cmap/wire_protocol/constants.js');
        console.log(`mongodb driver ${pkg.version}: wire ${constants.MIN_SUPPORTED_WIRE_VERSION}-${constants.MAX_SUPPORTED_WIRE_VERSION}; test server ${WIRE_VERSION.min}-${WIRE_VERSION.max}`);
        // The double was written against the 7.x driver's handshake (FINDINGS.md): a new major must be re-checked.
        assert.equal(pkg.version.split('.')[0], '7', `the test server was checked against mongodb 7.x, found ${pkg.version}`);
        assert.ok(WIRE_VERSION.min <= constants.MAX_SUPPORTED_WIRE_VERSION, 'server minimum above what the driver supports');
        assert.ok(WIRE_VERSION.max >= constants.MIN_SUPPORTED_WIRE_VERSION, 'server maximum below what the driver supports');
        const before = srv.commands().length;
        await withClient(clientFor(srv, 'root', ROOT_PWD), async (c) => {
            assert.deepEqual(await c.db('admin').command({ ping: 1 }), { ok: 1 });
            const hello = await c.db('admin').command({ hello: 1 });
            assert.equal(hello.isWritablePrimary, true);
            assert.equal(hello.maxWireVersion, WIRE_VERSION.max);
            const status = await c.db('admin').command({ connectionStatus: 1 });
            assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: 'root', db: 'admin' }]);
        });
        const seen = srv.commands().slice(before);
        const ping = seen.find((r) => r.name === 'ping');
        assert.deepEqual(ping?.authenticatedAs, { user: 'root', db: 'admin' }, 'the ping ran on an authenticated connection');
    });
    test('answers the driver\'s unauthenticated heartbeat hello over OP_MSG while an application connection stays usable (MongoDB wire test server)', async () => {
        const before = srv.commands().length;
        await withClient(clientFor(srv, 'root', ROOT_PWD, { heartbeatFrequencyMS: 500 }), async (c) => {
            await c.db('admin').command({ ping: 1 });
            // heartbeats every 500 ms: wait until one arrived, then use the application connection again
            await waitFor(() => srv.commands().slice(before).some((r) => r.name === 'hello' && r.opCode === OP_MSG), { what: 'a heartbeat hello over OP_MSG', timeoutMs: 20_000, intervalMs: 100 });
            await c.db('admin').command({ ping: 1 });
        });
        const heartbeats = srv.commands().slice(before).filter((r) => r.name === 'hello' && r.opCode === OP_MSG);
        assert.ok(heartbeats.length >= 1, 'at least one heartbeat hello arrived over OP_MSG');
        assert.ok(heartbeats.every((r) => r.authenticatedAs === undefined), 'monitoring connections do not authenticate');
    });
    test('receives the handshake as OP_QUERY (answered with OP_REPLY) and later commands as OP_MSG (MongoDB wire test server)', async () => {
        const before = srv.commands().length;
        await withClient(clientFor(srv, 'root', ROOT_PWD), (c) => c.db('admin').command({ ping: 1 }));
        const seen = srv.commands().slice(before);
        const handshakes = seen.filter((r) => r.name === 'ismaster' || r.name === 'isMaster' || r.name === 'hello');
        assert.ok(handshakes.length >= 1);
        assert.ok(handshakes.every((r) => r.opCode === OP_QUERY), 'every handshake came as OP_QUERY');
        assert.ok(handshakes.some((r) => r.body.helloOk === true && typeof r.body.client === 'object'));
        assert.equal(seen.find((r) => r.name === 'ping')?.opCode, OP_MSG);
    });
    test('refuses a wrong password and an unknown user identically, with code 18 "Authentication failed." (MongoDB wire test server)', async () => {
        const wrong = await serverErrorOf(withClient(clientFor(srv, 'root', `${ROOT_PWD}x`), (c) => c.db('admin').command({ ping: 1 })));
        const unknown = await serverErrorOf(withClient(clientFor(srv, 'ghost', ROOT_PWD), (c) => c.db('admin').command({ ping: 1 })));
        for (const err of [wrong, unknown]) {
            assert.equal(err.code, 18);
            assert.equal(err.codeName, 'AuthenticationFailed');
            assert.equal(err.errmsg, 'Authentication failed.');
        }
    });
    test('runs the ordinary saslStart/saslContinue exchange when speculative authentication is off (MongoDB wire test server)', async () => {
        const plain = await MongoWireTestServer.start({
            speculativeAuthentication: false,
            users: [{ db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] }],
        });
        try {
            await withClient(clientFor(plain, 'root', ROOT_PWD), (c) => c.db('admin').command({ ping: 1 }));
            const names = plain.commands().map((r) => r.name);
            assert.ok(names.includes('saslStart'), 'saslStart was sent');
            assert.ok(names.includes('saslContinue'), 'saslContinue was sent');
            const err = await serverErrorOf(withClient(clientFor(plain, 'root', 'not-it'), (c) => c.db('admin').command({ ping: 1 })));
            assert.equal(err.code, 18);
        }
        finally {
            await plain.stop();
        }
    });
    test('gives an unprivileged user 13 Unauthorized for updateUser, without echoing the password (MongoDB wire test server)', async () => {
        const newPwd = 'never-Echo-This-91ab';
        const err = await serverErrorOf(withClient(clientFor(srv, 'weak', WEAK_PWD), (c) => c.db('admin').command({ updateUser: 'app', pwd: newPwd, mechanisms: ['SCRAM-SHA-256'] })));
        assert.equal(err.code, 13);
        assert.equal(err.codeName, 'Unauthorized');
        assert.equal(err.errmsg, 'Not authorized to change password of user: app@admin');
        assert.ok(!JSON.stringify(err).includes(newPwd) && !err.message.includes(newPwd));
        const logged = srv.commands().filter((r) => r.name === 'updateUser').at(-1);
        assert.equal(logged?.body.pwd, 'xxx', 'the server keeps the password out of its own command log');
    });
    test('lets a user administrator change a password: the old one stops working, the new one logs in (MongoDB wire test server)', async () => {
        await withClient(clientFor(srv, 'root', ROOT_PWD), async (c) => {
            await c.db('admin').command({ createUser: 'temp', pwd: 'first-Pw-1', roles: [] });
            await c.db('admin').command({ updateUser: 'temp', pwd: 'second-Pw-2', mechanisms: ['SCRAM-SHA-256'] });
            const err = await serverErrorOf(c.db('admin').command({ updateUser: 'temp', pwd: 'x-Pw-3', digestPassword: false }));
            assert.equal(err.code, 2);
            assert.equal(err.errmsg, 'Use of SCRAM-SHA-256 requires undigested passwords');
            const missing = await serverErrorOf(c.db('admin').command({ updateUser: 'nobody', pwd: 'x-Pw-4' }));
            assert.equal(missing.code, 11);
            assert.equal(missing.codeName, 'UserNotFound');
        });
        const old = await serverErrorOf(withClient(clientFor(srv, 'temp', 'first-Pw-1'), (c) => c.db('admin').command({ ping: 1 })));
        assert.equal(old.code, 18);
        await withClient(clientFor(srv, 'temp', 'second-Pw-2'), (c) => c.db('admin').command({ ping: 1 }));
        await withClient(clientFor(srv, 'root', ROOT_PWD), (c) => c.db('admin').command({ dropUser: 'temp' }));
        assert.equal(srv.users().find((u) => u.user === 'temp'), undefined);
    });
    test('answers usersInfo with roles and mechanisms and never with credentials (MongoDB wire test server)', async () => {
        await withClient(clientFor(srv, 'root', ROOT_PWD), async (c) => {
            const info = await c.db('admin').command({ usersInfo: { user: 'app', db: 'admin' } });
            assert.equal(info.users.length, 1);
            const [user] = info.users;
            assert.equal(user._id, 'admin.app');
            assert.deepEqual(user.roles, [{ role: 'readWrite', db: 'appdb' }]);
            assert.deepEqual(user.mechanisms, ['SCRAM-SHA-256']);
            assert.equal(user.credentials, undefined);
            const none = await c.db('admin').command({ usersInfo: 'nobody' });
            assert.deepEqual(none.users, []);
            const refused = await serverErrorOf(c.db('admin').command({ usersInfo: 'app', showCredentials: true }));
            assert.equal(refused.code, 2);
        });
        // A user may always view itself, but not others without viewUser.
        await withClient(clientFor(srv, 'weak', WEAK_PWD), async (c) => {
            const self = await c.db('admin').command({ usersInfo: 'weak' });
            assert.equal(self.users.length, 1);
            const other = await serverErrorOf(c.db('admin').command({ usersInfo: 'app' }));
            assert.equal(other.code, 13);
        });
    });
    test('derives credentials from the SASLprep\'d password, as the driver does (MongoDB wire test server)', async () => {
        // U+00AD SOFT HYPHEN maps to nothing and U+00A0 NO-BREAK SPACE to a space under SASLprep.
        await withClient(clientFor(srv, 'root', ROOT_PWD), (c) => c.db('admin').command({ createUser: 'prepped', pwd: 'soft\u00ADhyphen\u00A0space', roles: [] }));
        await withClient(clientFor(srv, 'prepped', 'softhyphen space'), (c) => c.db('admin').command({ ping: 1 }));
        await withClient(clientFor(srv, 'root', ROOT_PWD), (c) => c.db('admin').command({ dropUser: 'prepped' }));
    });
    test('decodes "=2C" and "=3D" in SCRAM usernames; two commas fail as on MongoDB because the driver escapes only the first (MongoDB wire test server)', async () => {
        await withClient(clientFor(srv, 'root', ROOT_PWD), async (c) => {
            await c.db('admin').command({ createUser: 'a=b,c', pwd: 'escape-Pw-1', roles: [] });
            await c.db('admin').command({ createUser: 'x,y,z', pwd: 'escape-Pw-2', roles: [] });
        });
        await withClient(clientFor(srv, 'a=b,c', 'escape-Pw-1'), async (c) => {
            const status = await c.db('admin').command({ connectionStatus: 1 });
            assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: 'a=b,c', db: 'admin' }]);
        });
        const err = await serverErrorOf(withClient(clientFor(srv, 'x,y,z', 'escape-Pw-2'), (c) => c.db('admin').command({ ping: 1 })));
        assert.equal(err.code, 18);
        await withClient(clientFor(srv, 'root', ROOT_PWD), async (c) => {
            await c.db('admin').command({ dropUser: 'a=b,c' });
            await c.db('admin').command({ dropUser: 'x,y,z' });
        });
    });
});
describe('MongoDB wire test server on raw wire bytes', () => {
    let srv;
    let raw;
    before(async () => {
        srv = await MongoWireTestServer.start({ users: [{ db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] }] });
    });
    after(async () => {
        raw?.close();
        await srv.stop();
    });
    async function fresh() {
        raw?.close();
        raw = await RawWireClient.connect(srv.port);
        return raw;
    }
    test('answers an OP_QUERY isMaster with an OP_REPLY carrying the handshake fields (MongoDB wire test server)', async () => {
        const c = await fresh();
        c.send(encodeOpQuery(7, 'admin.$cmd', { isMaster: 1, helloOk: true, saslSupportedMechs: 'admin.root' }));
        const reply = await c.next();
        assert.equal(reply.header.opCode, OP_REPLY);
        assert.equal(reply.header.responseTo, 7);
        const doc = decodeReply(reply);
        assert.equal(doc.ismaster, true);
        assert.equal(doc.helloOk, true);
        assert.equal(doc.minWireVersion, 0);
        assert.equal(doc.maxWireVersion, 21);
        assert.deepEqual(doc.saslSupportedMechs, ['SCRAM-SHA-256']);
        for (const field of ['maxBsonObjectSize', 'maxMessageSizeBytes', 'maxWriteBatchSize', 'logicalSessionTimeoutMinutes', 'connectionId']) {
            assert.equal(typeof doc[field], 'number', field);
        }
        assert.ok(doc.localTime instanceof Date);
        assert.equal(doc.ok, 1);
    });
    test('leaves saslSupportedMechs out for an unknown user and refuses non-hello commands over OP_QUERY (MongoDB wire test server)', async () => {
        const c = await fresh();
        c.send(encodeOpQuery(1, 'admin.$cmd', { isMaster: 1, saslSupportedMechs: 'admin.ghost' }));
        assert.equal(decodeReply(await c.next()).saslSupportedMechs, undefined);
        c.send(encodeOpQuery(2, 'admin.$cmd', { ping: 1 }));
        const refused = decodeReply(await c.next());
        assert.equal(refused.ok, 0);
        assert.equal(refused.code, 352);
        assert.equal(refused.codeName, 'UnsupportedOpQueryCommand');
    });
    test('refuses user management before authentication and unknown commands with 59 CommandNotFound (MongoDB wire test server)', async () => {
        const c = await fresh();
        c.send(encodeOpMsg(1, 0, { updateUser: 'root', pwd: 'whatever-Pw', $db: 'admin' }));
        const unauth = decodeReply(await c.next());
        assert.deepEqual({ ok: unauth.ok, code: unauth.code, codeName: unauth.codeName, errmsg: unauth.errmsg }, { ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'command updateUser requires authentication' });
        c.send(encodeOpMsg(2, 0, { getLastError: 1, $db: 'admin' }));
        const unknown = decodeReply(await c.next());
        assert.deepEqual({ ok: unknown.ok, code: unknown.code, codeName: unknown.codeName, errmsg: unknown.errmsg }, { ok: 0, code: 59, codeName: 'CommandNotFound', errmsg: "no such command: 'getLastError'" });
        c.send(encodeOpMsg(3, 0, { ping: 1 }));
        assert.equal(decodeReply(await c.next()).code, 40571, 'OP_MSG without $db is refused');
    });
    test('accepts an OP_MSG with a correct CRC-32C checksum and closes the connection on a wrong one (MongoDB wire test server)', async () => {
        assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'CRC-32C check value');
        const c = await fresh();
        c.send(encodeOpMsg(11, 0, { ping: 1, $db: 'admin' }, { checksum: true }));
        const reply = await c.next();
        assert.equal(reply.header.responseTo, 11);
        assert.equal(decodeReply(reply).ok, 1);
        const bad = encodeOpMsg(12, 0, { ping: 1, $db: 'admin' }, { checksum: true });
        bad.writeUInt32LE((bad.readUInt32LE(bad.length - 4) ^ 1) >>> 0, bad.length - 4);
        c.send(bad);
        assert.equal(await c.closedByServer(), true);
    });
    test('merges a kind-1 document sequence into the command body (MongoDB wire test server)', async () => {
        const c = await fresh();
        // Hand-built: flagBits, kind 0 {ping:1,$db}, kind 1 "documents" with two documents.
        const body = Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }));
        const docs = [Buffer.from(BSON.serialize({ a: 1 })), Buffer.from(BSON.serialize({ b: 2 }))];
        const id = Buffer.from('documents\0');
        const seqSize = 4 + id.length + docs.reduce((n, d) => n + d.length, 0);
        const seqHeader = Buffer.alloc(5);
        seqHeader[0] = 1;
        seqHeader.writeInt32LE(seqSize, 1);
        const payload = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body, seqHeader, id, ...docs]);
        const header = Buffer.alloc(16);
        header.writeInt32LE(16 + payload.length, 0);
        header.writeInt32LE(21, 4);
        header.writeInt32LE(OP_MSG, 12);
        const before = srv.commands().length;
        c.send(Buffer.concat([header, payload]));
        assert.equal(decodeReply(await c.next()).ok, 1);
        const logged = srv.commands().slice(before).find((r) => r.name === 'ping');
        assert.deepEqual(logged?.body.documents, [{ a: 1 }, { b: 2 }]);
    });
    test('sends no reply to a moreToCome request and frames messages split across TCP chunks (MongoDB wire test server)', async () => {
        const c = await fresh();
        c.send(encodeOpMsg(31, 0, { ping: 1, $db: 'admin' }, { flagBits: MSG_MORE_TO_COME }));
        const second = encodeOpMsg(32, 0, { ping: 1, $db: 'admin' });
        c.send(second.subarray(0, 5));
        await new Promise((r) => setTimeout(r, 20));
        c.send(second.subarray(5));
        const reply = await c.next();
        assert.equal(reply.header.responseTo, 32, 'the first reply answers the second request');
    });
    test('ends a connection whose first message has a responseTo other than 0 or -1, as mongod does with a TLS ClientHello (MongoDB wire test server)', async () => {
        const c = await fresh();
        c.send(encodeOpMsg(1, 99, { ping: 1, $db: 'admin' }));
        assert.equal(await c.closedByServer(), true);
        const d = await fresh();
        d.send(encodeOpMsg(2, -1, { ping: 1, $db: 'admin' }));
        assert.equal(decodeReply(await d.next()).ok, 1, 'responseTo -1 is accepted');
    });
    test('closes a connection whose header claims an impossible length (MongoDB wire test server)', async () => {
        const c = await fresh();
        const header = Buffer.alloc(16);
        header.writeInt32LE(8, 0);
        c.send(header);
        assert.equal(await c.closedByServer(), true);
    });
    test('keeps saslContinue on conversation 1 and refuses a mismatched conversationId with 17 ProtocolError (MongoDB wire test server)', async () => {
        const c = await fresh();
        const payload = new Binary(Buffer.from('n,,n=root,r=abcdefghijklmnop'));
        c.send(encodeOpMsg(41, 0, { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload, $db: 'admin' }));
        const started = decodeReply(await c.next());
        assert.equal(started.conversationId, 1);
        assert.equal(started.done, false);
        c.send(encodeOpMsg(42, 0, { saslContinue: 1, conversationId: 2, payload: new Binary(Buffer.from('c=biws')), $db: 'admin' }));
        const mismatched = decodeReply(await c.next());
        assert.equal(mismatched.code, 17);
        c.send(encodeOpMsg(43, 0, { saslStart: 1, mechanism: 'SCRAM-SHA-1', payload, $db: 'admin' }));
        const sha1 = decodeReply(await c.next());
        assert.equal(sha1.code, 334, 'SCRAM-SHA-1 is not enabled on the test server');
    });
});
describe('SCRAM-SHA-256 server conversation', () => {
    // RFC 7677 §3: user "user", password "pencil", salt and nonces as printed there.
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const serverNonce = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const clientFirst = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
    const clientFinal = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
    test('reproduces RFC 7677\'s example exchange byte for byte (MongoDB wire test server)', async () => {
        const credential = await makeScramSha256Credential('pencil', 4096, salt);
        const conv = new ScramSha256Conversation((name) => (name === 'user' ? credential : undefined), () => serverNonce);
        const first = conv.start(Buffer.from(clientFirst));
        assert.ok(first.ok);
        assert.equal(first.payload.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
        const final = conv.finish(Buffer.from(clientFinal));
        assert.ok(final.ok);
        assert.equal(final.payload.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    });
    test('rejects a wrong proof, a wrong channel binding and a changed nonce (MongoDB wire test server)', async () => {
        const credential = await makeScramSha256Credential('pencil', 4096, salt);
        const run = (final) => {
            const conv = new ScramSha256Conversation(() => credential, () => serverNonce);
            assert.ok(conv.start(Buffer.from(clientFirst)).ok);
            return conv.finish(Buffer.from(final)).ok;
        };
        assert.equal(run(clientFinal), true);
        assert.equal(run(clientFinal.replace('p=dHzb', 'p=dHzc')), false, 'wrong proof');
        assert.equal(run(clientFinal.replace('c=biws', 'c=eSws')), false, 'channel binding of "y,," after "n,,"');
        assert.equal(run(clientFinal.replace('hNlF$k0', 'hNlF$k1')), false, 'nonce changed');
        const wrongPassword = await makeScramSha256Credential('pencil2', 4096, salt);
        const conv = new ScramSha256Conversation(() => wrongPassword, () => serverNonce);
        assert.ok(conv.start(Buffer.from(clientFirst)).ok);
        assert.equal(conv.finish(Buffer.from(clientFinal)).ok, false, 'proof made with another password');
    });
});
//# sourceMappingURL=mongodb-wire-server.test.js.map
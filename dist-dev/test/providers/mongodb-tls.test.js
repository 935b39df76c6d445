/**
 * The MongoDB provider's TLS modes against the MongoDB wire test server (a test double) serving a
 * certificate from a throw-away CA made with openssl for this test.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { makeTestPki } from '../support/mongo-tls.js';
import { expectProviderError, mongoSecret } from '../support/mongo-provider-fixtures.js';
import { createMongoProvider } from '../../providers/mongodb/index.js';
const ROOT_PWD = 'tls-Root-Secret-5e6f';
const APP_PWD = 'tls-App-Secret-9a0b';
const NEXT_PWD = 'tls-Next-Secret-3c4d';
const SECRETS = [ROOT_PWD, APP_PWD, NEXT_PWD];
const USERS = [
    { db: 'admin', user: 'root', pwd: ROOT_PWD, roles: [{ role: 'root', db: 'admin' }] },
    { db: 'admin', user: 'app', pwd: APP_PWD, roles: [] },
];
describe('MongoDB provider over TLS (MongoDB wire test server)', () => {
    let pki;
    let otherPki;
    let tlsSrv;
    let wrongNameSrv;
    let plainSrv;
    const open = [];
    function provider() {
        const p = createMongoProvider({ serverSelectionTimeoutMS: 400 });
        open.push(p);
        return p;
    }
    before(async () => {
        pki = makeTestPki();
        otherPki = makeTestPki('another test CA');
        tlsSrv = await MongoWireTestServer.start({ users: USERS, tls: pki.server('127.0.0.1', 'localhost') });
        wrongNameSrv = await MongoWireTestServer.start({ users: USERS, tls: pki.server('db.other.example') });
        plainSrv = await MongoWireTestServer.start({ users: USERS });
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
    });
    after(async () => {
        await Promise.all([tlsSrv?.stop(), wrongNameSrv?.stop(), plainSrv?.stop()]);
        pki?.cleanup();
        otherPki?.cleanup();
    });
    test('tls "require" with the test CA as caFile rotates and verifies (MongoDB wire test server)', async () => {
        const tls = { tls: 'require', caFile: pki.caFile };
        const p = provider();
        const res = await p.initialize({ admin: mongoSecret(tlsSrv, 'root', ROOT_PWD, tls), target: mongoSecret(tlsSrv, 'app', APP_PWD, tls) });
        assert.equal(res.serverVersion, 'MongoDB 7.0.14');
        await p.setPassword({ username: 'app', password: NEXT_PWD });
        await p.verify({ username: 'app', password: NEXT_PWD });
        await expectProviderError(p.verify({ username: 'app', password: APP_PWD }), 'SK_ERR_PROVIDER_AUTH_FAILED', SECRETS);
        await p.setPassword({ username: 'app', password: APP_PWD });
    });
    test('tls "verify-full" with caFile checks the certificate against 127.0.0.1 and works (MongoDB wire test server)', async () => {
        const tls = { tls: 'verify-full', caFile: pki.caFile };
        const p = provider();
        await p.initialize({ admin: mongoSecret(tlsSrv, 'root', ROOT_PWD, tls), target: mongoSecret(tlsSrv, 'app', APP_PWD, tls) });
        await p.verify({ username: 'app', password: APP_PWD });
    });
    test('tls "require" without caFile encrypts without checking the certificate, like libpq (MongoDB wire test server)', async () => {
        const p = provider();
        await p.initialize({ admin: mongoSecret(tlsSrv, 'root', ROOT_PWD, { tls: 'require' }), target: mongoSecret(tlsSrv, 'app', APP_PWD, { tls: 'require' }) });
        await p.verify({ username: 'app', password: APP_PWD });
    });
    test('tls "verify-full" refuses a certificate from an unknown CA and one for another host name with SK_ERR_PROVIDER_TLS (MongoDB wire test server)', async () => {
        const unknownCa = await expectProviderError(provider().initialize({ admin: mongoSecret(tlsSrv, 'root', ROOT_PWD, { tls: 'verify-full' }), target: mongoSecret(tlsSrv, 'app', APP_PWD) }), 'SK_ERR_PROVIDER_TLS', SECRETS);
        assert.match(unknownCa.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|certificate/i);
        const wrongName = await expectProviderError(provider().initialize({
            admin: mongoSecret(wrongNameSrv, 'root', ROOT_PWD, { tls: 'verify-full', caFile: pki.caFile }),
            target: mongoSecret(wrongNameSrv, 'app', APP_PWD),
        }), 'SK_ERR_PROVIDER_TLS', SECRETS);
        assert.match(wrongName.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
        // "require" with the right CA does not check the name: the same server is accepted.
        const p = provider();
        await p.initialize({
            admin: mongoSecret(wrongNameSrv, 'root', ROOT_PWD, { tls: 'require', caFile: pki.caFile }),
            target: mongoSecret(wrongNameSrv, 'app', APP_PWD),
        });
    });
    test('tls "require" with a caFile of another CA refuses the server with SK_ERR_PROVIDER_TLS (MongoDB wire test server)', async () => {
        await expectProviderError(provider().initialize({ admin: mongoSecret(tlsSrv, 'root', ROOT_PWD, { tls: 'require', caFile: otherPki.caFile }), target: mongoSecret(tlsSrv, 'app', APP_PWD) }), 'SK_ERR_PROVIDER_TLS', SECRETS);
    });
    test('tls "require" against a server without TLS fails with SK_ERR_PROVIDER_TLS, and the target is checked the same way (MongoDB wire test server)', async () => {
        const err = await expectProviderError(provider().initialize({ admin: mongoSecret(plainSrv, 'root', ROOT_PWD, { tls: 'require' }), target: mongoSecret(plainSrv, 'app', APP_PWD) }), 'SK_ERR_PROVIDER_TLS', SECRETS);
        assert.match(err.message, /"tls"/, 'the message points at the tls field');
        const p = provider();
        await p.initialize({ admin: mongoSecret(plainSrv, 'root', ROOT_PWD), target: mongoSecret(plainSrv, 'app', APP_PWD, { tls: 'require' }) });
        await expectProviderError(p.verify({ username: 'app', password: APP_PWD }), 'SK_ERR_PROVIDER_TLS', SECRETS);
    });
    test('tls "disable" against a TLS-only server fails with SK_ERR_PROVIDER_CONNECT and suggests setting tls (MongoDB wire test server)', async () => {
        const err = await expectProviderError(provider().initialize({ admin: mongoSecret(tlsSrv, 'root', ROOT_PWD), target: mongoSecret(tlsSrv, 'app', APP_PWD) }), 'SK_ERR_PROVIDER_CONNECT', SECRETS);
        assert.match(err.message, /requires TLS/);
    });
});
//# sourceMappingURL=mongodb-tls.test.js.map
// One meaning of a database secret's "tls" and "caFile" for every provider: tlsOptions()
// (providers/provider-config.ts) on its own, in real Node TLS handshakes, and then per engine
// against real servers with TLS — PostgreSQL (a private cluster, ssl=on), MariaDB (private, its
// accounts REQUIRE SSL), Redis (a private tls-port only) and MongoDB (the wire test server, TLS
// only) — each serving a certificate from a test CA that names only "sikkerkey-db.test", while the
// providers connect to "localhost". So a working "require" + caFile shows that the chain is checked
// and the name is not, and a refused "verify-full" with the right CA shows the name check.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import tls, { checkServerIdentity } from 'node:tls';
import mysql from 'mysql2/promise';
import { expectCode } from '../../providers/conformance.js';
import { createMongoProvider } from '../../providers/mongodb/index.js';
import { mysqlProvider } from '../../providers/mysql/mysql-provider.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import { acceptAnyHostName, checksHostName, tlsOptions } from '../../providers/provider-config.js';
import { errorChain } from '../../providers/provider-errors.js';
import { passwordHash, redisProvider } from '../../providers/redis/redis-provider.js';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { randomTag, startMariadbServer, startRedisServer } from '../support/services.js';
import { makeTestCa } from '../support/test-ca.js';
const CERT_NAME = 'sikkerkey-db.test';
const PEM = '-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n';
describe('tlsOptions(): the Node options for each tls mode', () => {
    const at = (host, mode, ca) => tlsOptions({ host, tls: mode }, ca);
    test('"disable" is no TLS at all, whatever caFile says', () => {
        assert.equal(at('db.internal', 'disable'), undefined);
        assert.equal(at('db.internal', 'disable', PEM), undefined);
    });
    test('the table: chain checked unless "require" has no caFile; host name checked only for "verify-full"', () => {
        const cases = [
            ['require', undefined, { rejectUnauthorized: false, checkServerIdentity: acceptAnyHostName, servername: 'db.internal' }],
            ['require', PEM, { rejectUnauthorized: true, ca: PEM, checkServerIdentity: acceptAnyHostName, servername: 'db.internal' }],
            ['verify-full', undefined, { rejectUnauthorized: true, checkServerIdentity, servername: 'db.internal' }],
            ['verify-full', PEM, { rejectUnauthorized: true, ca: PEM, checkServerIdentity, servername: 'db.internal' }],
        ];
        for (const [mode, ca, expected] of cases) {
            const got = at('db.internal', mode, ca);
            assert.deepEqual(got, expected, `${mode} ${ca === undefined ? 'without' : 'with'} caFile`);
            assert.equal(checksHostName(got ?? {}), mode === 'verify-full', `${mode}: checksHostName`);
        }
    });
    test('SNI (servername) only for a host name, never for an IP address (RFC 6066)', () => {
        for (const host of ['10.0.0.5', '::1', '[::1]', 'fe80::1']) {
            for (const mode of ['require', 'verify-full']) {
                assert.equal(at(host, mode, PEM)?.servername, undefined, `${mode} at ${host}`);
            }
        }
        assert.equal(at('localhost', 'verify-full')?.servername, 'localhost');
    });
});
/** A TLS handshake as a client with these options: 'ok' or the error's code. */
function handshake(port, host, options) {
    return new Promise((resolve) => {
        const socket = tls.connect({ host, port, ...options });
        socket.once('secureConnect', () => {
            socket.destroy();
            resolve('ok');
        });
        socket.once('error', (err) => {
            socket.destroy();
            resolve(err.code ?? err.message);
        });
    });
}
describe('tlsOptions(): what Node does with them (a tls.Server with a certificate from a test CA for "localhost")', () => {
    let ca;
    let otherCa;
    let server;
    let port;
    before(async () => {
        ca = makeTestCa();
        otherCa = makeTestCa('another test CA');
        const cert = ca.issue({ names: ['localhost'] });
        server = tls.createServer({ cert: cert.cert, key: cert.key }, (socket) => socket.end());
        server.on('tlsClientError', () => undefined);
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
        port = server.address().port;
    });
    after(async () => {
        await new Promise((resolve) => server?.close(resolve));
        ca?.cleanup();
        otherCa?.cleanup();
    });
    test('each mode, caFile and host gives the outcome in the table', async () => {
        const right = readFileSync(ca.caFile, 'utf8');
        const wrong = readFileSync(otherCa.caFile, 'utf8');
        const cases = [
            ['require', undefined, 'localhost', 'ok'],
            ['require', undefined, '127.0.0.1', 'ok'],
            ['require', right, 'localhost', 'ok'],
            ['require', right, '127.0.0.1', 'ok'], // the certificate does not name 127.0.0.1: not checked
            ['require', wrong, 'localhost', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
            ['verify-full', right, 'localhost', 'ok'],
            ['verify-full', right, '127.0.0.1', 'ERR_TLS_CERT_ALTNAME_INVALID'],
            ['verify-full', wrong, 'localhost', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
            ['verify-full', undefined, 'localhost', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'], // a test CA is not a default CA
        ];
        for (const [mode, caText, host, expected] of cases) {
            const what = `${mode} ${caText === undefined ? 'without caFile' : caText === right ? 'with the right CA' : 'with another CA'} at ${host}`;
            assert.equal(await handshake(port, host, tlsOptions({ host, tls: mode }, caText)), expected, what);
        }
    });
});
const at = (port, username, password, extra = {}) => (over) => ({ host: 'localhost', port: String(port), username, password, ...extra, ...over });
const ENGINES = [
    {
        name: 'PostgreSQL (private cluster, ssl=on)',
        async start(cert) {
            const c = await scramCluster({ tls: true, cert });
            return {
                secret: at(c.port, c.adminUser, c.adminPassword, { database: 'postgres' }),
                username: c.adminUser,
                password: c.adminPassword,
                provider: () => postgresProvider({ connectTimeoutMs: 5_000 }),
                stop: () => c.stop(),
            };
        },
    },
    {
        name: 'MariaDB (private, accounts REQUIRE SSL)',
        async start(cert) {
            const s = await startMariadbServer({ cert });
            const password = `adm-${randomTag(10)}`;
            const root = await mysql.createConnection({ socketPath: s.socketPath, user: 'root' });
            try {
                await root.query('CREATE USER ?@? IDENTIFIED BY ? REQUIRE SSL', ['sk_admin', '%', password]);
                await root.query('GRANT CREATE USER ON *.* TO ?@?', ['sk_admin', '%']);
            }
            finally {
                await root.end();
            }
            return { secret: at(s.port, 'sk_admin', password), username: 'sk_admin', password, provider: () => mysqlProvider({ connectTimeoutMs: 5_000 }), stop: () => s.stop() };
        },
    },
    {
        name: 'Redis (private, tls-port only)',
        async start(cert) {
            const password = `adm-${randomTag(10)}`;
            const s = await startRedisServer({ tls: true, cert, aclFileContents: `user default off\nuser sk_admin on #${passwordHash(password)} +@all ~*\n` });
            return { secret: at(s.port, 'sk_admin', password), username: 'sk_admin', password, provider: () => redisProvider({ connectTimeoutMs: 5_000 }), stop: () => s.stop() };
        },
    },
    {
        name: 'MongoDB (wire test server, TLS only)',
        async start(cert) {
            const password = `adm-${randomTag(10)}`;
            const s = await MongoWireTestServer.start({ users: [{ db: 'admin', user: 'root', pwd: password, roles: [{ role: 'root', db: 'admin' }] }], tls: { cert: cert.cert, key: cert.key } });
            return { secret: at(s.port, 'root', password), username: 'root', password, provider: () => createMongoProvider({ serverSelectionTimeoutMS: 1_500 }), stop: () => s.stop() };
        },
    },
];
// What the refusal says, in the message or the (scrubbed) driver error under it: mysql2 replaces
// Node's error code with HANDSHAKE_SSL_ERROR but keeps its message.
const UNTRUSTED = /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|unable to verify the first certificate|self[- ]signed certificate/i;
const WRONG_NAME = /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/i;
// The server's certificate is signed by `ca` and names only CERT_NAME; every secret says "localhost".
const CASES = [
    { what: 'tls "require" + a caFile of a CA that did not sign the certificate is refused', over: (f) => ({ tls: 'require', caFile: f.otherCa }), refused: UNTRUSTED },
    { what: 'tls "require" + the CA that signed it connects (the host name is not checked)', over: (f) => ({ tls: 'require', caFile: f.ca }) },
    { what: 'tls "require" + the right CA at an IP address connects (no name to check)', over: (f) => ({ tls: 'require', caFile: f.ca, host: '127.0.0.1' }) },
    { what: 'tls "require" without caFile connects (encryption only)', over: () => ({ tls: 'require' }) },
    { what: 'tls "verify-full" + the right CA, but a host name the certificate does not name, is refused', over: (f) => ({ tls: 'verify-full', caFile: f.ca }), refused: WRONG_NAME },
    { what: 'tls "verify-full" without caFile is refused (a test CA is not among the default CAs)', over: () => ({ tls: 'verify-full' }), refused: UNTRUSTED },
];
/** The error's message and those of the errors under it. */
const explained = (err) => errorChain(err).map((e) => (e instanceof Error ? e.message : String(e))).join(' / ');
describe('every provider gives "tls" and "caFile" the same meaning (real servers, a test CA\'s certificate for another name)', () => {
    let ca;
    let otherCa;
    let files;
    let serverCert;
    before(() => {
        ca = makeTestCa();
        otherCa = makeTestCa('another test CA');
        const issued = ca.issue({ names: [CERT_NAME] });
        serverCert = { certFile: issued.certFile, keyFile: issued.keyFile, caFile: ca.caFile, cert: issued.cert, key: issued.key };
        files = { ca: ca.caFile, otherCa: otherCa.caFile };
    });
    after(() => {
        ca?.cleanup();
        otherCa?.cleanup();
    });
    for (const engine of ENGINES) {
        describe(engine.name, () => {
            let running;
            before(async () => {
                running = await engine.start(serverCert);
            });
            after(async () => {
                await running?.stop();
            });
            for (const c of CASES) {
                test(c.what, async () => {
                    const over = c.over(files);
                    const good = running.secret({ tls: 'require', caFile: files.ca });
                    const secrets = [running.password];
                    if (c.refused === undefined) {
                        const p = running.provider();
                        try {
                            await p.initialize({ admin: running.secret(over), target: running.secret(over) });
                            await p.verify({ username: running.username, password: running.password });
                        }
                        finally {
                            await p.close();
                        }
                        return;
                    }
                    // the admin connection (initialize) …
                    const p1 = running.provider();
                    try {
                        const err = await expectCode(p1.initialize({ admin: running.secret(over), target: good }), 'SK_ERR_PROVIDER_TLS', secrets, `${engine.name}, admin: ${c.what}`);
                        assert.match(explained(err), c.refused, `${engine.name}, admin: the error names the reason`);
                    }
                    finally {
                        await p1.close();
                    }
                    // … and a verification connection to the target, each with its own secret's fields
                    const p2 = running.provider();
                    try {
                        await p2.initialize({ admin: good, target: running.secret(over) });
                        const err = await expectCode(p2.verify({ username: running.username, password: running.password }), 'SK_ERR_PROVIDER_TLS', secrets, `${engine.name}, target: ${c.what}`);
                        assert.match(explained(err), c.refused, `${engine.name}, target: the error names the reason`);
                    }
                    finally {
                        await p2.close();
                    }
                });
            }
        });
    }
});
//# sourceMappingURL=tls-options.test.js.map
// The driver-error tables, case by case, with errors shaped as each driver shapes them (the
// conformance suites provoke the common ones from real servers; these cover the rest).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mysqlError } from '../../providers/mysql/mysql-errors.js';
import { pgError } from '../../providers/postgres/postgres-errors.js';
import { classifyNetworkError } from '../../providers/provider-errors.js';
import { redisError } from '../../providers/redis/redis-errors.js';
const sysErr = (code, message = `connect ${code} 10.0.0.5:5432`) => Object.assign(new Error(message), { code });
const pgServer = (code, message) => Object.assign(new Error(message), { code, severity: 'ERROR' });
const mysqlServer = (errno, message) => Object.assign(new Error(message), { errno, sqlState: 'HY000', sqlMessage: message, code: 'ER_X', sql: "ALTER USER 'a'@'%' IDENTIFIED BY 'pw-in-sql'" });
const redisReply = (message) => Object.assign(new Error(message), { name: 'ReplyError' });
describe('network and TLS failures', () => {
    const cases = [
        ['refused', sysErr('ECONNREFUSED'), 'SK_ERR_PROVIDER_CONNECT'],
        ['unknown host', sysErr('ENOTFOUND'), 'SK_ERR_PROVIDER_CONNECT'],
        ['timeout', sysErr('ETIMEDOUT'), 'SK_ERR_PROVIDER_CONNECT'],
        ['happy-eyeballs aggregate', Object.assign(new AggregateError([sysErr('ECONNREFUSED')], 'x'), {}), 'SK_ERR_PROVIDER_CONNECT'],
        ['pg connect timeout', new Error('timeout expired'), 'SK_ERR_PROVIDER_CONNECT'],
        ['self-signed certificate', sysErr('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'SK_ERR_PROVIDER_TLS'],
        ['host name mismatch', sysErr('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'SK_ERR_PROVIDER_TLS'],
        ['plain server answering TLS', sysErr('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), 'SK_ERR_PROVIDER_TLS'],
        ['pg without ssl', new Error('The server does not support SSL connections'), 'SK_ERR_PROVIDER_TLS'],
        ['mysql without ssl', sysErr('HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection'), 'SK_ERR_PROVIDER_TLS'],
    ];
    for (const [name, err, code] of cases) {
        test(`${name} is ${code}`, () => assert.equal(classifyNetworkError(err)?.code, code));
    }
    test('an error the server answered is not a network failure', () => {
        assert.equal(classifyNetworkError(new Error('syntax error')), undefined);
    });
});
describe('PostgreSQL SQLSTATE mapping', () => {
    const ctx = { step: 'update', endpoint: 'db:5432', username: 'app', admin: 'sk_admin' };
    const cases = [
        ['28P01 at login', pgServer('28P01', 'password authentication failed for user "app"'), 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['28000 at login', pgServer('28000', 'no pg_hba.conf entry'), 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['42501', pgServer('42501', 'permission denied'), 'SK_ERR_PROVIDER_PRIVILEGE', 'CREATEROLE'],
        ['42704', pgServer('42704', 'role "app" does not exist'), 'SK_ERR_PROVIDER_USER_NOT_FOUND', '"app"'],
        ['3D000', pgServer('3D000', 'database "nope" does not exist'), 'SK_ERR_PROVIDER_CONFIG', 'database'],
        ['53300', pgServer('53300', 'too many connections'), 'SK_ERR_PROVIDER_CONNECT'],
        ['25006', pgServer('25006', 'cannot execute ALTER ROLE in a read-only transaction'), 'SK_ERR_PROVIDER_FAILED', 'primary'],
        ['a statement timeout is not a network failure', pgServer('57014', 'canceling statement due to statement timeout'), 'SK_ERR_PROVIDER_FAILED', 'lock'],
    ];
    for (const [name, err, code, mentions] of cases) {
        test(`${name} → ${code}`, () => {
            const out = pgError(err, { ...ctx, privilegeHint: 'run ALTER ROLE "sk_admin" CREATEROLE' });
            assert.equal(out.code, code);
            if (mentions !== undefined)
                assert.ok(out.message.includes(mentions), out.message);
        });
    }
    test('a syntax error during ALTER ROLE does not repeat the server text, which could quote the literal', () => {
        const out = pgError(pgServer('42601', 'syntax error at or near "\'pw-fragment\'"'), ctx);
        assert.equal(out.code, 'SK_ERR_PROVIDER_FAILED');
        assert.ok(!out.message.includes('pw-fragment'), out.message);
    });
    test('passwords the provider knows are redacted from message and cause', () => {
        const out = pgError(pgServer('XX000', 'oops secret-pw-123'), { ...ctx, step: 'login', secrets: ['secret-pw-123'] });
        assert.ok(!out.message.includes('secret-pw-123') && !String(out.cause.message).includes('secret-pw-123'));
    });
});
describe('MySQL / MariaDB errno mapping', () => {
    const ctx = { engine: 'MariaDB', endpoint: 'db:3306', account: "'app'@'%'", admin: "'sk_admin'@'%'" };
    const cases = [
        ['1045 at login', mysqlServer(1045, "Access denied for user 'app'@'10.0.0.1' (using password: YES)"), 'login', 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['1045 at admin login', mysqlServer(1045, 'Access denied'), 'admin-login', 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['MariaDB 4151 account locked', mysqlServer(4151, 'Access denied, this account is locked'), 'login', 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['MySQL 3118 account locked', mysqlServer(3118, 'Access denied for user. Account is locked.'), 'login', 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['1227 specific access denied', mysqlServer(1227, 'you need (at least one of) the CREATE USER privilege(s)'), 'update', 'SK_ERR_PROVIDER_PRIVILEGE'],
        ['1044 db access denied', mysqlServer(1044, "Access denied for user to database 'mysql'"), 'update', 'SK_ERR_PROVIDER_PRIVILEGE'],
        ['1396 cannot user', mysqlServer(1396, "Operation ALTER USER failed for 'app'@'%'"), 'update', 'SK_ERR_PROVIDER_USER_NOT_FOUND'],
        ['1049 bad database', mysqlServer(1049, "Unknown database 'nope'"), 'login', 'SK_ERR_PROVIDER_CONFIG'],
        ['1040 too many connections', mysqlServer(1040, 'Too many connections'), 'login', 'SK_ERR_PROVIDER_CONNECT'],
        ['1290 read only', mysqlServer(1290, 'The MariaDB server is running with the --read-only option'), 'update', 'SK_ERR_PROVIDER_FAILED'],
    ];
    for (const [name, err, step, code] of cases) {
        test(`${name} → ${code}, and the statement never travels in the cause`, () => {
            const out = mysqlError(err, { ...ctx, step });
            assert.equal(out.code, code);
            assert.equal(out.cause.sql, undefined);
            assert.ok(!out.message.includes('pw-in-sql'));
        });
    }
    test('an unmapped error during ALTER USER keeps only its numbers', () => {
        const out = mysqlError(mysqlServer(1064, "You have an error in your SQL syntax near 'pw-fragment' at line 1"), { ...ctx, step: 'update' });
        assert.equal(out.code, 'SK_ERR_PROVIDER_FAILED');
        assert.ok(!out.message.includes('pw-fragment'), out.message);
    });
});
describe('Redis reply mapping', () => {
    const ctx = { step: 'update', endpoint: 'cache:6379', username: 'app', admin: 'sk_admin' };
    const cases = [
        ['WRONGPASS', redisReply('WRONGPASS invalid username-password pair or user is disabled.'), 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['NOAUTH', redisReply('NOAUTH Authentication required.'), 'SK_ERR_PROVIDER_AUTH_FAILED'],
        ['NOPERM', redisReply("NOPERM this user has no permissions to run the 'acl|setuser' command"), 'SK_ERR_PROVIDER_PRIVILEGE'],
        ['LOADING', redisReply('LOADING Redis is loading the dataset in memory'), 'SK_ERR_PROVIDER_CONNECT'],
        ['READONLY', redisReply("READONLY You can't write against a read only replica."), 'SK_ERR_PROVIDER_FAILED'],
        ['refused', sysErr('ECONNREFUSED'), 'SK_ERR_PROVIDER_CONNECT'],
    ];
    for (const [name, err, code] of cases) {
        test(`${name} → ${code}`, () => assert.equal(redisError(err, ctx).code, code));
    }
    test('an ACL rule Redis echoes back is redacted when it holds a known password', () => {
        const out = redisError(redisReply("ERR Error in ACL SETUSER modifier '>pw-in-rule': Syntax error"), { ...ctx, secrets: ['pw-in-rule'] });
        assert.ok(!out.message.includes('pw-in-rule'), out.message);
    });
});
//# sourceMappingURL=provider-errors.test.js.map
// PostgreSQL specifics beyond the conformance suite, on the password-enforcing scram cluster:
// what reaches the server for a new password, and who may change whose password (PostgreSQL 15
// rules checked against the real server; the 16+ rules against the preflight function).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from '../support/wait.js';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { expectCode } from '../../providers/conformance.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import { passwordLiteral } from '../../providers/postgres/postgres-password.js';
import { pgPreflightProblems, type PgAdminRow, type PgRoleRow } from '../../providers/postgres/postgres-preflight.js';
import type { CredentialProvider, DatabaseSecret } from '../../providers/provider.js';
import { scramCluster, type ScramCluster } from '../support/pg-scram-cluster.js';
import { randomTag } from '../support/services.js';

let cluster: ScramCluster;
let root: pg.Client;
const created: string[] = [];
const id = pg.escapeIdentifier;
const lit = pg.escapeLiteral;

before(async () => {
  cluster = await scramCluster();
  root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await root.connect();
});
after(async () => {
  for (const name of created.reverse()) await root?.query(`DROP ROLE IF EXISTS ${id(name)}`).catch(() => undefined);
  await root?.end();
  await cluster?.stop();
});

/** A role made by the test's superuser, dropped after the file. */
async function role(attributes: string, password = `pw-${randomTag(10)}`): Promise<{ name: string; password: string; secret: DatabaseSecret }> {
  const name = `sk_t_${randomTag()}`;
  created.push(name);
  await root.query(`CREATE ROLE ${id(name)} ${attributes} PASSWORD ${lit(password)}`);
  return { name, password, secret: { host: cluster.host, port: String(cluster.port), database: 'postgres', username: name, password } };
}

async function withProvider(admin: DatabaseSecret, target: DatabaseSecret, run: (p: CredentialProvider) => Promise<void>): Promise<void> {
  const provider = postgresProvider();
  try {
    await provider.initialize({ admin, target });
    await run(provider);
  } finally {
    await provider.close();
  }
}

const storedVerifier = async (name: string): Promise<string> =>
  String((await root.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [name])).rows[0]?.p);

describe('postgres provider: what reaches the server', () => {
  test('a new password travels as a SCRAM verifier: the ALTER ROLE is in the server log, the password is not', async (t) => {
    assert.ok(cluster.logFile !== undefined, 'needs the cluster this process started (not PG_SCRAM_URL)');
    const admin = await role('LOGIN CREATEROLE');
    const app = await role('LOGIN');
    const next = `fresh-${randomTag(12)}`;
    await withProvider(admin.secret, app.secret, async (p) => {
      await p.setPassword({ username: app.name, password: next });
      await p.verify({ username: app.name, password: next });
    });
    assert.match(await storedVerifier(app.name), /^SCRAM-SHA-256\$4096:/);
    // the server writes its log asynchronously: wait until the statement is there
    const logFile = cluster.logFile;
    const log = await waitFor(() => readFileSync(logFile, 'utf8'), {
      what: 'the ALTER ROLE in the server log', timeoutMs: 10_000, intervalMs: 50, until: (text) => text.includes(`ALTER ROLE ${id(app.name)} WITH PASSWORD`), show: () => 'not yet',
    }).catch(() => readFileSync(logFile, 'utf8'));
    assert.ok(log.includes(`ALTER ROLE ${id(app.name)} WITH PASSWORD`), 'log_statement=ddl did not log the statement: the check below would prove nothing');
    assert.ok(!log.includes(next), 'the new password is in the server log');
    t.diagnostic('server log holds the ALTER ROLE with a verifier, not the password');
  });

  test('with password_encryption = md5 the provider stores exactly the verifier the server would compute', async () => {
    const admin = await role('LOGIN CREATEROLE');
    await root.query(`ALTER ROLE ${id(admin.name)} SET password_encryption = 'md5'`);
    const app = await role('LOGIN');
    const next = `md5-${randomTag(12)}`;
    await withProvider(admin.secret, app.secret, async (p) => {
      await p.setPassword({ username: app.name, password: next });
    });
    const ours = await storedVerifier(app.name);
    await root.query("SET password_encryption = 'md5'");
    await root.query(`ALTER ROLE ${id(app.name)} PASSWORD ${lit(next)}`);
    await root.query('RESET password_encryption');
    assert.equal(ours, await storedVerifier(app.name));
    assert.equal(ours, await passwordLiteral({ password: next, role: app.name, encryption: 'md5', iterations: 4096 }));
  });

  test('a role name over 63 bytes is refused instead of silently truncated', async () => {
    const admin = await role('LOGIN CREATEROLE');
    const app = await role('LOGIN');
    await withProvider(admin.secret, app.secret, async (p) => {
      const long = 'x'.repeat(64);
      await expectCode(p.setPassword({ username: long, password: 'whatever-123456' }), 'SK_ERR_PROVIDER_CONFIG', ['whatever-123456'], 'a 64-byte role');
      const res = await p.preflight?.({ usernames: [long], strategy: 'single' });
      assert.equal(res?.ok, false);
    });
  });

  test('an admin secret without a password is a config error naming the field', async () => {
    const app = await role('LOGIN');
    const p = postgresProvider();
    await expectCode(p.initialize({ admin: { host: cluster.host, port: String(cluster.port), username: 'postgres' }, target: app.secret }), 'SK_ERR_PROVIDER_CONFIG', [], 'no password');
  });
});

describe('postgres provider: who may change whose password (PostgreSQL 15, real server)', () => {
  test('a CREATEROLE admin may not change a REPLICATION role before 16: preflight says so and the server agrees', async () => {
    const admin = await role('LOGIN CREATEROLE');
    const rep = await role('LOGIN REPLICATION');
    await withProvider(admin.secret, rep.secret, async (p) => {
      const res = await p.preflight?.({ usernames: [rep.name], strategy: 'single' });
      assert.equal(res?.ok, false);
      assert.ok(res?.problems.some((x) => x.includes('REPLICATION') && x.includes(rep.name)), res?.problems.join(' | '));
      const next = `rep-${randomTag(10)}`;
      const err = await expectCode(p.setPassword({ username: rep.name, password: next }), 'SK_ERR_PROVIDER_PRIVILEGE', [next], 'replication role');
      assert.ok(err.message.includes(admin.name), err.message);
    });
  });

  test('only a superuser may change a superuser; a superuser admin passes preflight for every kind of role', async () => {
    const admin = await role('LOGIN CREATEROLE');
    const superRole = await role('LOGIN SUPERUSER');
    await withProvider(admin.secret, superRole.secret, async (p) => {
      const res = await p.preflight?.({ usernames: [superRole.name], strategy: 'single' });
      assert.ok(res?.problems.some((x) => x.includes('superuser') && x.includes(superRole.name)), res?.problems.join(' | '));
      await expectCode(p.setPassword({ username: superRole.name, password: `s-${randomTag(10)}` }), 'SK_ERR_PROVIDER_PRIVILEGE', [], 'superuser role');
    });
    const rep = await role('LOGIN REPLICATION');
    await withProvider(superRole.secret, rep.secret, async (p) => {
      assert.deepEqual(await p.preflight?.({ usernames: [rep.name, superRole.name], strategy: 'single' }), { ok: true, problems: [] });
    });
  });

  test('preflight reports NOLOGIN and an expired VALID UNTIL, which a new password would not fix', async () => {
    const admin = await role('LOGIN CREATEROLE');
    const nologin = await role('NOLOGIN');
    const expired = await role("LOGIN VALID UNTIL '2001-01-01'");
    await withProvider(admin.secret, nologin.secret, async (p) => {
      const res = await p.preflight?.({ usernames: [nologin.name, expired.name], strategy: 'single' });
      assert.ok(res?.problems.some((x) => x.includes('NOLOGIN') && x.includes(`ALTER ROLE ${id(nologin.name)} LOGIN`)), res?.problems.join(' | '));
      assert.ok(res?.problems.some((x) => x.includes('VALID UNTIL') && x.includes(expired.name)), res?.problems.join(' | '));
    });
  });

  test('an admin without CREATEROLE is told the exact statement to run', async () => {
    const weak = await role('LOGIN');
    const app = await role('LOGIN');
    await withProvider(weak.secret, app.secret, async (p) => {
      const res = await p.preflight?.({ usernames: [app.name], strategy: 'single' });
      assert.ok(res?.problems.includes(`admin ${JSON.stringify(weak.name)} lacks CREATEROLE: run ALTER ROLE ${id(weak.name)} CREATEROLE`), res?.problems.join(' | '));
    });
  });
});

describe('postgres provider: an admin connection the server closes (what the agent pool asks before lending a kept provider)', () => {
  test('isConnected() is true after initialize() and false once the server terminated the admin backend', async () => {
    const admin = await role('LOGIN CREATEROLE');
    const app = await role('LOGIN');
    const p = postgresProvider();
    try {
      assert.equal(p.isConnected?.(), false, 'not connected before initialize()');
      await p.initialize({ admin: admin.secret, target: app.secret });
      assert.equal(p.isConnected?.(), true, 'connected after initialize()');
      const { rows } = await root.query<{ killed: boolean }>(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'sikkerkey-agent' AND usename = $1",
        [admin.name],
      );
      assert.deepEqual(rows.map((r) => r.killed), [true], 'the server terminated the admin backend');
      await waitFor(() => p.isConnected?.() === false, { what: 'isConnected() to turn false', timeoutMs: 10_000, intervalMs: 20 });
      assert.equal(p.isConnected?.(), false);
      await p.initialize({ admin: admin.secret, target: app.secret });
      assert.equal(p.isConnected?.(), true, 'connected again after a new initialize()');
    } finally {
      await p.close();
    }
    assert.equal(p.isConnected?.(), false, 'not connected after close()');
  });
});

describe('postgres preflight rules for PostgreSQL 16+', () => {
  const admin: PgAdminRow = { rolname: 'sk_admin', rolsuper: false, rolcreaterole: true };
  const roleRow = (over: Partial<PgRoleRow>): PgRoleRow => ({
    rolname: 'app', rolsuper: false, rolreplication: false, rolcanlogin: true, rolvaliduntil: null, admin_option: false, ...over,
  });
  const check = (versionNum: number, row: PgRoleRow): string[] =>
    pgPreflightProblems({ admin, roles: [row], usernames: [row.rolname], versionNum, endpoint: 'db:5432' });

  test('CREATEROLE without ADMIN OPTION on the role is a problem from 16 on, with the GRANT that fixes it', () => {
    assert.deepEqual(check(150020, roleRow({})), []);
    const problems = check(160004, roleRow({}));
    assert.equal(problems.length, 1);
    assert.ok(problems[0]?.includes('GRANT "app" TO "sk_admin" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE'), problems[0]);
    assert.deepEqual(check(160004, roleRow({ admin_option: true })), []);
  });

  test('REPLICATION roles need a superuser before 16, and only ADMIN OPTION from 16 on', () => {
    assert.equal(check(150020, roleRow({ rolreplication: true, admin_option: true })).length, 1);
    assert.deepEqual(check(160004, roleRow({ rolreplication: true, admin_option: true })), []);
  });

  test('a role may always change its own password', () => {
    const self: PgAdminRow = { rolname: 'app', rolsuper: false, rolcreaterole: false };
    const problems = pgPreflightProblems({ admin: self, roles: [roleRow({})], usernames: ['app'], versionNum: 160004, endpoint: 'db:5432' });
    assert.deepEqual(problems, []);
  });
});

describe('postgres provider over TLS (a cluster with a self-signed certificate for "localhost")', () => {
  let tlsCluster: ScramCluster;
  let app: { name: string; password: string };
  before(async () => {
    tlsCluster = await scramCluster({ tls: true });
    const c = new pg.Client({ host: tlsCluster.host, port: tlsCluster.port, user: tlsCluster.adminUser, password: tlsCluster.adminPassword, database: 'postgres' });
    await c.connect();
    app = { name: `sk_t_${randomTag()}`, password: `pw-${randomTag(10)}` };
    await c.query(`CREATE ROLE ${id(app.name)} LOGIN PASSWORD ${lit(app.password)}`);
    await c.end();
  });
  after(async () => {
    await tlsCluster?.stop();
  });
  const secrets = (over: Record<string, string>): { admin: DatabaseSecret; target: DatabaseSecret } => ({
    admin: { host: '127.0.0.1', port: String(tlsCluster.port), username: tlsCluster.adminUser, password: tlsCluster.adminPassword, ...over },
    target: { host: '127.0.0.1', port: String(tlsCluster.port), username: app.name, password: app.password, ...over },
  });

  test('tls require encrypts without checking the certificate; verify-full checks it against caFile and the host name', async () => {
    const caFile = tlsCluster.caFile ?? assert.fail('no certificate');
    const modes: Record<string, string>[] = [{ tls: 'require' }, { tls: 'verify-full', caFile, host: 'localhost' }];
    for (const over of modes) {
      const { admin, target } = secrets(over);
      await withProvider(admin, target, async (p) => {
        const next = `tls-${randomTag(10)}`;
        await p.setPassword({ username: app.name, password: next });
        await p.verify({ username: app.name, password: next });
        app.password = next;
        // the server's view: the provider's admin session is encrypted
        const c = new pg.Client({ host: tlsCluster.host, port: tlsCluster.port, user: tlsCluster.adminUser, password: tlsCluster.adminPassword, database: 'postgres' });
        await c.connect();
        const { rows } = await c.query<{ ssl: boolean }>(
          "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'sikkerkey-agent'",
        );
        await c.end();
        assert.deepEqual(rows, [{ ssl: true }], `tls ${over['tls']}: the admin session is not encrypted`);
      });
    }
  });

  test('verify-full refuses a certificate it cannot trust, or one for another host name', async () => {
    const caFile = tlsCluster.caFile ?? assert.fail('no certificate');
    for (const [what, over] of [
      ['no caFile for a self-signed certificate', { tls: 'verify-full', host: 'localhost' }],
      ['127.0.0.1 is not in the certificate', { tls: 'verify-full', caFile, host: '127.0.0.1' }],
    ] as const) {
      const p = postgresProvider();
      const { admin, target } = secrets(over);
      await expectCode(p.initialize({ admin, target }), 'SK_ERR_PROVIDER_TLS', [tlsCluster.adminPassword], what);
      await p.close();
    }
  });
});

// The agent's lease reconcile (agent/leases/reconcile.ts) with the real PostgreSQL provider on the
// password-enforcing scram cluster, and a stub vault object in place of the vault's lease routes:
// a leftover leased login that owns a table is dropped by the reconcile, and what it owned goes to
// the lease role's `memberOf` (as with the drop job), not to the admin.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { reconcileLeases } from '../../agent/leases/reconcile.js';
import type { AgentLeaseRole } from '../../protocol/api-types.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import type { DatabaseSecret } from '../../providers/provider.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { scramCluster, type ScramCluster } from '../support/pg-scram-cluster.js';
import { randomTag } from '../support/services.js';

let cluster: ScramCluster;
let root: pg.Client;
let admin: DatabaseSecret;
let target: Record<string, string>;
const tag = randomTag();
const prefix = `sk${tag.slice(0, 6)}_`;
const app = `lease_app_${tag}`;
const schema = `lease_rec_${tag}`;
const id = pg.escapeIdentifier;
const hour = 3_600_000;

before(async () => {
  cluster = await scramCluster();
  root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await root.connect();
  await root.query(`CREATE SCHEMA ${id(schema)}`);
  await root.query(`CREATE ROLE ${id(app)} NOLOGIN`);
  // the application role may create (own) tables in the schema; its leased logins inherit that
  await root.query(`GRANT USAGE, CREATE ON SCHEMA ${id(schema)} TO ${id(app)}`);
  admin = { host: cluster.host, port: String(cluster.port), database: 'postgres', username: cluster.adminUser, password: cluster.adminPassword };
  target = { host: cluster.host, port: String(cluster.port), database: 'postgres' };
});
after(async () => {
  for (const name of (await root.query<{ r: string }>('SELECT rolname AS r FROM pg_roles WHERE left(rolname, length($1::text)) = $1::text', [prefix])).rows) {
    await root.query(`DROP OWNED BY ${id(name.r)}`).catch(() => undefined);
    await root.query(`DROP ROLE IF EXISTS ${id(name.r)}`).catch(() => undefined);
  }
  await root?.query(`DROP SCHEMA IF EXISTS ${id(schema)} CASCADE`).catch(() => undefined);
  await root?.query(`DROP ROLE IF EXISTS ${id(app)}`).catch(() => undefined);
  await root?.end();
  await cluster?.stop();
});

/** A leased login of `app`, made as the create job makes it, that creates (owns) a table and goes. */
async function leftoverOwning(table: string): Promise<string> {
  const username = `${prefix}rec_${randomTag()}`;
  const password = `pw-${randomTag(12)}`;
  const provider = withSanitizer(postgresProvider());
  await provider.initialize({ admin, target: { ...target, username } });
  try {
    await provider.createLogin!({ username, password, grant: { memberOf: app }, validUntil: Date.now() + hour });
  } finally {
    await provider.close();
  }
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: username, password, database: 'postgres' });
  await c.connect();
  await c.query(`CREATE TABLE ${id(schema)}.${id(table)} (x int)`);
  await c.end();
  return username;
}

const ownerOf = async (table: string): Promise<string | undefined> =>
  (await root.query<{ o: string }>('SELECT tableowner AS o FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, table])).rows[0]?.o;
const exists = async (name: string): Promise<boolean> => ((await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount ?? 0) > 0;

async function reconcileWith(role: AgentLeaseRole, drop: string[], log = pino({ level: 'silent' })) {
  return reconcileLeases({
    vault: {
      leaseRoles: async () => ({ roles: [role] }),
      reconcile: async (roleId, body) => {
        assert.equal(roleId, role.roleId);
        assert.ok(drop.every((u) => body.logins.includes(u)), 'the leftover login was listed to the vault');
        return { drop, foreign: [] };
      },
    },
    provider: async () => withSanitizer(postgresProvider()),
    log,
  });
}

describe('lease reconcile (real PostgreSQL, stub vault)', () => {
  test('stub vault: a leftover login that owns a table is dropped, and the table goes to the role\'s memberOf, not the admin', async () => {
    const table = `owned_${tag}`;
    const username = await leftoverOwning(table);
    assert.equal(await ownerOf(table), username);
    const role: AgentLeaseRole = { roleId: 'role-pg', project: 'shop', role: 'pg-app', engine: 'postgres', admin, target, prefix, grant: { memberOf: app } };
    const summary = await reconcileWith(role, [username]);
    assert.deepEqual(summary, { roles: 1, dropped: 1, foreign: 0, errors: 0 });
    assert.equal(await exists(username), false, 'the login is gone');
    assert.equal(await ownerOf(table), app, 'REASSIGN OWNED gave the table to memberOf');
    assert.notEqual(await ownerOf(table), cluster.adminUser);
  });

  test('stub vault: a vault that predates grant in the lease roles answer: the login is still dropped (its table goes to the admin, with a warning)', async () => {
    const table = `old_vault_${tag}`;
    const username = await leftoverOwning(table);
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(String((JSON.parse(line) as { msg?: unknown }).msg)); } });
    const role: AgentLeaseRole = { roleId: 'role-old', project: 'shop', role: 'pg-app', engine: 'postgres', admin, target, prefix };
    const summary = await reconcileWith(role, [username], log);
    assert.deepEqual(summary, { roles: 1, dropped: 1, foreign: 0, errors: 0 });
    assert.equal(await exists(username), false, 'the login is gone: nothing leaks');
    assert.equal(await ownerOf(table), cluster.adminUser);
    assert.ok(warnings.some((m) => m.includes('no memberOf')), warnings.join('\n'));
  });
});

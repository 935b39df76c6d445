/**
 * Opens the vault's store: embedded SQLite in a data directory (`<dataDir>/vault.db`, the default)
 * or PostgreSQL from a URL (several replicas). Both run the same migrations (see migrations/).
 *
 * SQLite is opened in WAL mode with foreign keys on, a busy timeout, and `synchronous = FULL`: a
 * promoted credential that a power cut took back out of the store would be a password the
 * database has and the vault lost. PostgreSQL gets a pool whose int8 parser returns JS numbers
 * (installed on this pool only, never on pg's global types).
 *
 * Errors opening, connecting or migrating are `SK_ERR_STORE`; a message never contains the
 * password of a database URL.
 *
 * @example
 *   const store = await openStore({ dataDir: '/var/lib/sikkerkey' });
 *   await store.ping();
 *   const projects = await store.db.selectFrom('projects').selectAll().execute();
 *   await store.close();
 */
import { chmodSync, closeSync, fsync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import type { Pool } from 'pg';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { Database } from './database.js';
import { CodeMigrationProvider, MIGRATION_NAMES } from './migrations/index.js';
import { VaultSqliteDialect, withStatementCache } from './sqlite-dialect.js';
import { withPrivateUmask } from './file-modes.js';
import type { BatchDurability } from './group-commit.js';
import { startBackgroundCheckpoints } from './sqlite-checkpointer.js';
import { loadPg } from './pg-driver.js';
import { hotSql } from './sqlite-hot.js';
import type { HotSql } from './sqlite-hot.js';
import type { CheckpointerOptions } from './sqlite-checkpointer.js';

export type Dialect = 'sqlite' | 'postgres';

export type StoreLocation = { dataDir: string } | { databaseUrl: string };

export interface OpenStoreOptions {
  /** Apply pending migrations (default true). `false` opens the store as it is. */
  migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL `statement_timeout` for every connection of the pool, in ms (default: the server's). */
  statementTimeoutMs?: number;
}

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Closes the pool / file; calling it again does nothing. */
  close(): Promise<void>;
  /** One round trip (`select 1`); SK_ERR_STORE when the store does not answer. */
  ping(): Promise<void>;
  /**
   * SQLite only: group commits relax `synchronous` for their COMMIT and then fsync the WAL on the
   * thread pool, so the event loop never waits for the disk (store/group-commit.ts). Absent for
   * PostgreSQL, whose COMMIT is durable when it returns.
   */
  durability?: BatchDurability;
  /**
   * SQLite only: the connection itself, for the statements every request runs (prepared once, run
   * synchronously, no query building: store/sqlite-hot.ts). Absent for PostgreSQL.
   */
  hot?: HotSql;
  /**
   * SQLite only: checkpoint the WAL from a worker thread instead of inside COMMITs (a running
   * vault does; see sqlite-checkpointer.ts). Returns the function that stops it.
   */
  startBackgroundCheckpoints?(opts?: CheckpointerOptions): () => Promise<void>;
}

export const SQLITE_FILE_NAME = 'vault.db';
/** The SQLite store's files: the database, its write-ahead log and its shared-memory index. */
export function sqliteFiles(dataDir: string): string[] {
  const file = join(dataDir, SQLITE_FILE_NAME);
  return [file, `${file}-wal`, `${file}-shm`];
}
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

export async function openStore(loc: StoreLocation, opts: OpenStoreOptions = {}): Promise<Store> {
  const store = 'dataDir' in loc ? openSqlite(loc.dataDir) : await openPostgres(loc.databaseUrl, opts.poolSize ?? 10, opts.statementTimeoutMs);
  try {
    await refuseNewerSchema(store);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  if (opts.migrate ?? true) {
    try {
      await migrate(store);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }
  return store;
}

/** Which migrations have run: `current` when none is pending. */
export async function migrationStatus(store: Pick<Store, 'db' | 'dialect'>): Promise<{ current: boolean; pending: string[] }> {
  const migrations = await migrator(store).getMigrations();
  const pending = migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
  return { current: pending.length === 0, pending };
}

/**
 * A store a newer version migrated holds migrations this one does not know: refused, whether or
 * not this process would migrate (Kysely's migrator would refuse only when asked to migrate, and
 * a replica that does not migrate would serve on a schema it does not understand). An older
 * replica keeps serving while a newer one migrates *additive* changes only after it restarts on
 * the newer version (docs/ha.md "Rolling upgrades").
 */
async function refuseNewerSchema(store: Store): Promise<void> {
  const known = new Set(MIGRATION_NAMES);
  let executed: string[];
  try {
    executed = (await sql<{ name: string }>`select name from kysely_migration`.execute(store.db)).rows.map((r) => r.name);
  } catch {
    return; // no migration table yet: a new store
  }
  const unknown = executed.filter((name) => !known.has(name)).sort();
  if (unknown.length > 0) {
    throw new SikkerKeyError('SK_ERR_STORE_SCHEMA', `the store was migrated by a newer SikkerKey (migrations ${unknown.join(', ')} are unknown to this version, which knows up to ${MIGRATION_NAMES.at(-1) ?? 'none'}): run the newer version, or restore a backup taken before the upgrade`);
  }
}

/** `sikkerkey-vault migrate`: applies the pending migrations; the names it applied, in order. */
export async function migrateStore(store: Store): Promise<string[]> {
  const before = await migrationStatus(store);
  await migrate(store);
  return before.pending;
}

/** Refuses to serve on a store with pending migrations (PostgreSQL: `migrate` is explicit). */
export async function assertSchemaCurrent(store: Pick<Store, 'db' | 'dialect'>): Promise<void> {
  const { pending } = await migrationStatus(store);
  if (pending.length > 0) {
    throw new SikkerKeyError('SK_ERR_STORE_SCHEMA', `the store has ${pending.length} pending migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}): run \`sikkerkey-vault migrate --database-url …\` once, then start the replicas (docs/ha.md "Rolling upgrades")`);
  }
}

async function migrate(store: Store): Promise<void> {
  const { error, results } = await migrator(store).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new SikkerKeyError('SK_ERR_STORE', `migrating the ${store.dialect} store failed${failed ? ` at ${failed}` : ''}: ${reason}`, { cause: error });
  }
}

function migrator(store: Pick<Store, 'db' | 'dialect'>): Migrator {
  return new Migrator({ db: store.db, provider: new CodeMigrationProvider(store.dialect) });
}

function openSqlite(dataDir: string): Store {
  const file = join(dataDir, SQLITE_FILE_NAME);
  let native: SqliteDatabase.Database;
  try {
    ensureDataDir(dataDir);
    // Created 0600 whatever the process umask. SQLite gives the -wal and -shm files (created now
    // by WAL mode, or later) the database file's mode.
    native = withPrivateUmask(() => new SqliteDatabase(file, { timeout: SQLITE_BUSY_TIMEOUT_MS }));
  } catch (err) {
    if (err instanceof SikkerKeyError) throw err;
    throw new SikkerKeyError('SK_ERR_STORE', `cannot open the SQLite store ${file}: ${messageOf(err)}`, { cause: err });
  }
  try {
    const db = native;
    const mode = withPrivateUmask(() => db.pragma('journal_mode = WAL', { simple: true }));
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`the file system refused WAL mode (journal mode is ${String(mode)})`);
    native.pragma('foreign_keys = ON');
    native.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    native.pragma('synchronous = FULL');
  } catch (err) {
    native.close();
    throw new SikkerKeyError('SK_ERR_STORE', `cannot set up the SQLite store ${file}: ${messageOf(err)}`, { cause: err });
  }
  const db = new Kysely<Database>({ dialect: new VaultSqliteDialect({ database: withStatementCache(native) }) });
  const wal = walSyncer(dataDir, `${file}-wal`);
  const store = makeStore(db, 'sqlite', `the SQLite store ${file}`, (m) => m);
  const hot = hotSql(native);
  const close = store.close;
  let stopCheckpoints: (() => Promise<void>) | undefined;
  return {
    ...store,
    startBackgroundCheckpoints(opts) {
      stopCheckpoints ??= startBackgroundCheckpoints(native, file, opts);
      return stopCheckpoints;
    },
    hot,
    // On the one connection, which the batch holds while these run (no query building per batch).
    durability: {
      relax: async () => { hot.run('pragma synchronous = NORMAL'); },
      restore: async () => { hot.run('pragma synchronous = FULL'); },
      flush: wal.flush,
    },
    close: async () => {
      await stopCheckpoints?.();
      await close();
      wal.close();
    },
  };
}

/**
 * fsync of the write-ahead log on libuv's thread pool. In WAL mode a COMMIT at `synchronous =
 * NORMAL` has written its frames to the -wal file (a kill -9 loses nothing from then on); the
 * fsync of that file makes them survive a power cut too. fsync covers the file, whichever
 * descriptor asks, so our own read-only descriptor suffices. The directory is fsynced once, so
 * the -wal file's own creation is durable too.
 */
function walSyncer(dataDir: string, walFile: string): { flush(): Promise<void>; close(): void } {
  let fd: number | undefined;
  const syncFd = (target: number): Promise<void> => new Promise((resolve, reject) => fsync(target, (err) => (err ? reject(err) : resolve())));
  const syncOnce = async (): Promise<void> => {
    if (fd === undefined) {
      fd = openSync(walFile, 'r');
      const dir = openSync(dataDir, 'r');
      try {
        await syncFd(dir);
      } finally {
        closeSync(dir);
      }
    }
    await syncFd(fd);
  };
  // One fsync at a time: what commits while one runs is covered by a single follow-up fsync,
  // shared by every batch that asked meanwhile (under load, one fsync covers many batches).
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (!running) {
      running = syncOnce().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running.then(() => undefined, () => undefined).then(() => {
      queued = undefined;
      return flush();
    });
    return queued;
  };
  return {
    flush,
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** Creates the data directory private to this user (0700) when it is missing. */
function ensureDataDir(dataDir: string): void {
  let exists = true;
  try {
    if (!statSync(dataDir).isDirectory()) {
      throw new SikkerKeyError('SK_ERR_STORE', `the data directory ${dataDir} exists and is not a directory`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    exists = false;
  }
  if (!exists) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // mkdir's mode passes through the umask; the vault's directory is 0700 whatever the umask.
    chmodSync(dataDir, 0o700);
  }
}

async function openPostgres(databaseUrl: string, poolSize: number, statementTimeoutMs: number | undefined): Promise<Store> {
  const { shown, scrub } = describeUrl(databaseUrl);
  const pg = await loadPg();
  const types = new pg.TypeOverrides();
  // int8 (COUNT, BIGINT ms timestamps, audit seq) as a number. Values beyond 2^53 never occur in
  // this schema; should one appear it stays the exact string pg would give rather than a rounded number.
  types.setTypeParser(pg.types.builtins.INT8, (text: string) => {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  });
  let pool: Pool;
  try {
    pool = new pg.Pool({
      connectionString: databaseUrl, types, max: poolSize, application_name: 'sikkerkey-vault',
      ...(statementTimeoutMs !== undefined ? { statement_timeout: statementTimeoutMs } : {}),
      // A host that drops packets would otherwise make a connect (and the vault's boot) wait forever.
      connectionTimeoutMillis: 10_000,
    });
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_STORE', `cannot use the PostgreSQL URL ${shown}: ${scrub(messageOf(err))}`);
  }
  // A connection whose server went away emits 'error'; unhandled, that would end the process.
  // Idle in the pool, the pool re-emits it; checked out (a query or transaction in flight), pg-pool
  // takes its own listener off and the client's 'error' has none — so every client gets one for
  // good when it connects. Either way the query fails through the ordinary path (SK_ERR_STORE) and
  // the pool drops the broken client on release.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const store = makeStore(db, 'postgres', `PostgreSQL at ${shown}`, scrub);
  try {
    await store.ping();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

function makeStore(db: Kysely<Database>, dialect: Dialect, where: string, scrub: (message: string) => string): Store {
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect,
    close: () => (closing ??= db.destroy()),
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        // No `cause` for PostgreSQL: a driver error may carry connection parameters.
        throw new SikkerKeyError('SK_ERR_STORE', `cannot reach ${where}: ${scrub(messageOf(err))}`,
          dialect === 'sqlite' ? { cause: err } : undefined);
      }
    },
  };
}

/**
 * The URL as it may be shown (password replaced by ***), and a function that removes the password
 * from any text — a driver message could quote it.
 */
export function describeUrl(databaseUrl: string): { shown: string; scrub: (text: string) => string } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return { shown: '(an unparsable URL)', scrub: (text) => text.split(databaseUrl).join('(the database URL)') };
  }
  const secrets = new Set<string>();
  if (url.password !== '') {
    secrets.add(url.password);
    try {
      secrets.add(decodeURIComponent(url.password));
    } catch {
      // not percent-decodable: the raw form is all there is
    }
    url.password = '***';
  }
  for (const key of [...url.searchParams.keys()]) {
    if (key.toLowerCase() === 'password') {
      for (const v of url.searchParams.getAll(key)) secrets.add(v);
      url.searchParams.set(key, '***');
    }
  }
  const shown = url.toString();
  const scrub = (text: string): string => {
    let out = text.split(databaseUrl).join(shown);
    for (const s of secrets) if (s !== '') out = out.split(s).join('***');
    return out;
  };
  return { shown, scrub };
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(messageOf).join('; ');
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

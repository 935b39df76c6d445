import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { SikkerKeyError } from '../protocol/errors.js';
import { printResult } from '../protocol/cli.js';
import { generateIdentityKey, writePrivateKeyFile } from '../protocol/keys.js';
import { loadRootKeys, ROOT_KEY_ENV } from './crypto/root-key.js';
import { assertSchemaCurrent, migrateStore, migrationStatus, openStore, sqliteFiles } from './store/open-store.js';
import { PERMISSIVE_FILE_WARNING, permissiveVaultFiles } from './store/file-modes.js';
import type { Store } from './store/open-store.js';
import type { VaultContext } from './context.js';
import { reloadRootKeys } from './ops/root-key-reload.js';
import { createLogger } from './logging.js';
import { effectiveMaxConnections, FD_RESERVE, openFileLimit } from './http/limits.js';
import { initVault, openVault, openVaultWithAudit } from './vault-state.js';
import { describeVaultConfig, loadVaultConfig, parseListenAddress } from './config.js';
import type { VaultConfig, VaultFlags } from './config.js';
import { loadTlsContext, reloadTls, tlsServerOptions } from './http/tls.js';
import type { ReloadableServer } from './http/tls.js';
import type { BudgetLike } from './http/auth-guard.js';
import { startWakeupRelay } from './cluster/wakeups.js';
import type { IpcChannel, WakeupRelay } from './cluster/wakeups.js';
import { runPrimary } from './cluster/cluster-primary.js';
import { availableParallelism } from 'node:os';

type StoreLocation = { dataDir: string } | { databaseUrl: string };

/** Flags first, then SIKKERKEY_VAULT_DATA_DIR / SIKKERKEY_VAULT_DATABASE_URL. */
export function storeLocation(opts: { dataDir?: string; databaseUrl?: string }, env = process.env): StoreLocation {
  const dataDir = opts.dataDir ?? env.SIKKERKEY_VAULT_DATA_DIR;
  const databaseUrl = opts.databaseUrl ?? env.SIKKERKEY_VAULT_DATABASE_URL;
  if (dataDir && databaseUrl) throw new SikkerKeyError('SK_ERR_USAGE', 'give either --data-dir or --database-url, not both');
  if (dataDir) return { dataDir };
  if (databaseUrl) return { databaseUrl };
  throw new SikkerKeyError('SK_ERR_USAGE', 'where is the store? give --data-dir DIR (embedded SQLite) or --database-url URL (PostgreSQL)');
}

export async function initCommand(opts: { dataDir?: string; databaseUrl?: string; operatorPublicKey: string; operatorName: string; json?: boolean }): Promise<void> {
  const store = await openStore(storeLocation(opts));
  try {
    const { rootKey, operatorKeyId, auditPublicKey } = await initVault(store, { operatorPublicKey: opts.operatorPublicKey, operatorName: opts.operatorName });
    printResult(Boolean(opts.json), { rootKey: rootKey.toString('base64'), operatorKeyId, auditPublicKey }, () => [
      'Vault created.',
      `Root key (shown once; store it offline, supply it at every start with --root-key-file, --root-key-stdin or SIKKERKEY_ROOT_KEY):`,
      `  ${rootKey.toString('base64')}`,
      `Operator key id: ${operatorKeyId}`,
      `Audit public key (checks the signatures of \`sikkerkey audit head\` checkpoints): ${auditPublicKey}`,
    ].join('\n'));
  } finally {
    await store.close();
  }
}

/**
 * `sikkerkey-vault migrate`: applies pending migrations, once per upgrade, before the new
 * version's replicas start (PostgreSQL replicas never migrate on their own; docs/ha.md). With
 * `--status` it only says what is pending. A store a newer version migrated is refused.
 */
export async function migrateCommand(opts: { dataDir?: string; databaseUrl?: string; status?: boolean; json?: boolean }): Promise<void> {
  const store = await openStore(storeLocation(opts), { migrate: false });
  try {
    if (opts.status) {
      const { pending } = await migrationStatus(store);
      printResult(Boolean(opts.json), { pending, current: pending.length === 0 }, () => (pending.length === 0 ? 'schema current: nothing to migrate' : `pending migrations: ${pending.join(', ')}`));
      if (pending.length > 0) process.exitCode = 3;
      return;
    }
    const applied = await migrateStore(store);
    printResult(Boolean(opts.json), { applied }, () => (applied.length === 0 ? 'schema current: nothing to migrate' : `applied ${applied.join(', ')}`));
  } finally {
    await store.close();
  }
}

/**
 * The store `serve` (and each worker) runs on. SQLite migrates as it opens: one vault owns the
 * file. PostgreSQL is shared by replicas of possibly different versions, so a replica never
 * migrates: it refuses to start while migrations are pending (`sikkerkey-vault migrate` first),
 * and — like every open — on a schema a newer version migrated.
 */
export async function openServedStore(config: VaultConfig): Promise<Store> {
  if (config.dataDir !== undefined) return openStore({ dataDir: config.dataDir });
  const store = await openStore({ databaseUrl: config.databaseUrl as string }, { migrate: false, poolSize: config.databasePoolSize, statementTimeoutMs: config.statementTimeoutMs });
  try {
    await assertSchemaCurrent(store);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

function authorityOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    throw new SikkerKeyError('SK_ERR_USAGE', `--public-url ${JSON.stringify(url)} is not a URL`);
  }
}

export interface Running {
  app: FastifyInstance; ctx: VaultContext; store: Store; url: string; log: Logger; authorities: readonly string[]; maxConnections: number;
  /** Cross-process wake-ups (cluster/wakeups.ts); closed after the app. */
  relay: WakeupRelay;
}

/** What starting a listener needs from the configuration. */
type ServerSettings = Pick<VaultConfig, 'listen' | 'publicUrl' | 'rotationLeaseSeconds' | 'allowCidr' | 'trustProxy' | 'tls' | 'metrics'> & Partial<Pick<VaultConfig, 'verifyConcurrency' | 'maxConnections' | 'databaseUrl' | 'trashDays' | 'webhookAllowCidr' | 'auditRetentionMs' | 'auditSink'>>;

export interface StartServerOptions {
  store: Store;
  /** One root key, or two during a rotation (the one the store records opens it; both open boxes). */
  rootKey: Buffer | readonly Buffer[];
  settings: ServerSettings; log: Logger; canaryDisablesMachine?: boolean; geoipDb?: string | undefined; acceptBrokenChain?: boolean;
  /** Run the rotation scheduler and the machine sweeper here (default true; of several workers only worker 1 does). */
  background?: boolean;
  /** Log "vault listening" with the URL (default true; a worker reports to its primary, which logs it once). */
  announce?: boolean;
  /** A failure budget shared with other workers (cluster/shared-budget.ts). */
  failureBudget?: BudgetLike;
  /** A cluster worker's channel to its primary: wake-ups go through it on SQLite. */
  ipc?: IpcChannel;
}

/**
 * Opens the vault with the root key, builds the app and listens; the authority list follows the
 * real port. On PostgreSQL long-polls are also woken by other processes' writes (LISTEN/NOTIFY).
 */
export async function startServer(opts: StartServerOptions): Promise<Running> {
  const { settings, log } = opts;
  const background = opts.background ?? true;
  const { keyring, auditKeys } = await openVaultWithAudit(opts.store, opts.rootKey, { acceptBrokenChain: Boolean(opts.acceptBrokenChain) });
  const authorities = settings.publicUrl.map(authorityOf);
  const https = settings.tls ? tlsServerOptions(settings.tls) : undefined;
  const maxConnections = effectiveMaxConnections(settings.maxConnections, openFileLimit());
  if (maxConnections.cappedFrom !== undefined) {
    log.warn({ maxConnections: maxConnections.value, asked: maxConnections.cappedFrom }, `max connections lowered to ${maxConnections.value}: the open-file limit (ulimit -n) less ${FD_RESERVE} kept for the store and logs; raise the limit (systemd LimitNOFILE=) for more`);
  }
  // Loaded here: init, migrate and the other commands that serve nothing never load fastify and the routes.
  const { buildApp } = await import('./app.js');
  const { app, ctx } = await buildApp({
    limits: { maxConnections: maxConnections.value },
    store: opts.store, keyring, auditKeys, log, authorities, scheduler: background, machineSweeper: background, leaseSweeper: background, trashSweeper: background,
    ...(settings.trashDays !== undefined ? { trashDays: settings.trashDays } : {}),
    // Every process knows the vault's retention (a project's may only be longer); one prunes.
    ...(settings.auditRetentionMs !== undefined ? { auditRetentionMs: settings.auditRetentionMs, auditRetentionSweeper: background } : {}),
    ...(settings.auditSink !== undefined && background ? { auditSink: settings.auditSink } : {}),
    ...(opts.failureBudget ? { failureBudget: opts.failureBudget } : {}),
    ...(opts.geoipDb ? { geoipDb: opts.geoipDb } : {}),
    rotationLeaseSeconds: settings.rotationLeaseSeconds,
    metricsEndpoint: settings.metrics.enabled,
    ...(https ? { https } : {}),
    ...(settings.allowCidr.length > 0 ? { allowCidrs: settings.allowCidr } : {}),
    ...(settings.trustProxy.length > 0 ? { trustProxy: settings.trustProxy } : {}),
    ...(settings.webhookAllowCidr ? { webhookAllowCidrs: settings.webhookAllowCidr } : {}),
    ...(settings.verifyConcurrency !== undefined ? { verifyConcurrency: settings.verifyConcurrency } : {}),
    ...(opts.canaryDisablesMachine === false ? { canaryDisablesMachine: false } : {}),
  });
  const addr = parseListenAddress(settings.listen);
  const listen = async (where: { path: string } | { host: string; port: number }): Promise<void> => {
    try {
      await app.listen(where);
    } catch (err) {
      await app.close().catch(() => undefined);
      throw new SikkerKeyError('SK_ERR_CONFIG', `cannot listen on ${settings.listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  let url: string;
  if (addr.path) {
    await listen({ path: addr.path });
    url = `unix:${addr.path}`;
    if (authorities.length === 0) authorities.push('localhost');
  } else {
    await listen({ host: addr.host ?? '127.0.0.1', port: addr.port ?? 8200 });
    const bound = app.server.address();
    const port = typeof bound === 'object' && bound ? bound.port : addr.port;
    const host = addr.host?.includes(':') ? `[${addr.host}]` : addr.host;
    url = `${https ? 'https' : 'http'}://${host}:${port}`;
    if (authorities.length === 0) {
      authorities.push(`${host}:${port}`);
      if (host === '127.0.0.1' || host === '[::1]') authorities.push(`localhost:${port}`);
    }
  }
  if (opts.announce ?? true) {
    log.info({ url, authorities, tls: Boolean(https), clientCertificates: Boolean(settings.tls?.clientCa), maxConnections: maxConnections.value }, 'vault listening');
  } else {
    log.debug({ address: url }, 'worker listening');
  }
  let relay: WakeupRelay;
  try {
    relay = await startWakeupRelay({
      log,
      ...(opts.store.dialect === 'postgres' && settings.databaseUrl !== undefined ? { databaseUrl: settings.databaseUrl } : {}),
      ...(opts.ipc ? { ipc: opts.ipc } : {}),
    });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new SikkerKeyError('SK_ERR_STORE', `cannot listen for other processes' wake-ups: ${(err as Error).message}`);
  }
  log.info({ fingerprints: keyring.fingerprints() }, keyring.fingerprints().length > 1
    ? 'root keys held: the first is the one the store records; both open what they sealed (a rotation in progress)'
    : 'root key held');
  return { app, ctx, store: opts.store, url, log, authorities, maxConnections: maxConnections.value, relay };
}

/** How a step of the drain ended: done, failed (with its error), or still running after `ms`. */
type StepOutcome = { done: true } | { done: false; err: unknown } | 'timeout';

/** Waits for `p` at most `ms`; never rejects. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<StepOutcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    const settle = (outcome: StepOutcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    p.then(() => settle({ done: true }), (err: unknown) => settle({ done: false, err }));
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * SIGTERM/SIGINT: stop accepting, answer held long-polls and new requests 503 + Retry-After, give
 * in-flight requests up to `shutdownTimeoutMs`, then cut what is left and close the store. A
 * second signal exits at once. SIGHUP reloads the TLS certificate and re-reads the root key files
 * (ops/root-key-reload.ts), and never ends the process (Node's default for SIGHUP would).
 */
export function onSignals(running: Running, opts: { shutdownTimeoutMs: number; tls?: VaultConfig['tls']; rootKeyFiles?: readonly string[]; cleanup?: () => void; escalate?: boolean; rootKeyNote?: string }): void {
  const { app, log } = running;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping && opts.escalate === false) return;
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      opts.cleanup?.();
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    log.info({ signal, shutdownTimeoutMs: opts.shutdownTimeoutMs }, 'shutting down: no new connections; held long-polls answered 503; in-flight requests may finish');
    // Fire and forget: a signal handler cannot wait, and every step below is bounded and ends
    // in process.exit (settledWithin never rejects). The exit code is 1 when a step timed out or
    // failed (an onClose hook threw, the store would not close): each such case is logged.
    void (async () => {
      let code = 0;
      const closed = await settledWithin(app.close(), opts.shutdownTimeoutMs);
      if (closed === 'timeout') {
        code = 1;
        log.warn({ shutdownTimeoutMs: opts.shutdownTimeoutMs }, 'in-flight requests did not finish in time; closing their connections');
        app.server.closeAllConnections();
      } else if (!closed.done) {
        code = 1;
        log.error({ err: errorText(closed.err) }, 'closing the server failed');
      }
      // The wake-up relay only carries hints between processes: a relay that does not close is
      // logged, and does not make the drain unclean.
      const relay = await settledWithin(running.relay.close(), 2000);
      if (relay === 'timeout') log.warn('the wake-up relay did not close within 2 s');
      else if (!relay.done) log.warn({ err: errorText(relay.err) }, 'closing the wake-up relay failed');
      const store = await settledWithin(running.store.close(), 5000);
      if (store === 'timeout') {
        code = 1;
        log.warn('the store did not close within 5 s');
      } else if (!store.done) {
        code = 1;
        log.error({ err: errorText(store.err) }, 'closing the store failed');
      }
      log.info({ ms: Date.now() - started, clean: code === 0 }, 'vault stopped');
      opts.cleanup?.();
      process.exit(code);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (stopping) return;
    if (opts.tls === undefined) log.info('SIGHUP: no TLS certificate to reload');
    else reloadTls(app.server as unknown as ReloadableServer, opts.tls, log);
    const files = opts.rootKeyFiles ?? [];
    if (files.length === 0) log.info(`SIGHUP: ${opts.rootKeyNote ?? 'the root key came from standard input or SIKKERKEY_ROOT_KEY'}: nothing to re-read`);
    else void reloadRootKeys(running.ctx, files);
  });
}

export interface ServeFlags extends VaultFlags {
  config?: string;
  rootKeyStdin?: boolean;
  canaryDisableMachine?: boolean;
  /** --geoip-db FILE: MaxMind-format database for machines' country allowlists. */
  geoipDb?: string;
  /** --accept-broken-chain: key an audit log whose existing chain is broken (recorded in audit.keys.created). */
  acceptBrokenChain?: boolean;
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  // Everything that can be wrong with the configuration fails here, before the root key is read.
  const config = loadVaultConfig({ file: flags.config, env: process.env, flags });
  if (config.tls) loadTlsContext(config.tls);
  const log = createLogger({ level: config.log.level });
  for (const warning of config.warnings) log.warn(warning);
  const ownFiles = [...(config.dataDir !== undefined ? sqliteFiles(config.dataDir) : []), ...config.rootKeyFiles];
  for (const f of permissiveVaultFiles(ownFiles)) log.warn(f, PERMISSIVE_FILE_WARNING);
  const rootKey = await loadRootKeys({ files: config.rootKeyFiles, stdin: Boolean(flags.rootKeyStdin), env: process.env });
  const workers = config.workers ?? availableParallelism();
  if (workers > 1) {
    // Workers get the root key over the IPC channel only; they inherit the environment otherwise.
    delete process.env[ROOT_KEY_ENV];
    // Migrations, the root-key check and (first serve) the audit keys happen once, here, before
    // N processes would race for them; the primary then holds no store open.
    const check = await openServedStore(config);
    try {
      await openVaultWithAudit(check, rootKey, { acceptBrokenChain: Boolean(flags.acceptBrokenChain) });
    } finally {
      await check.close();
    }
    await runPrimary({
      workers, config, rootKeys: rootKey, log,
      ...(config.rootKeyFiles.length > 0 ? { checkRootKeys: () => checkRootKeyFiles(config) } : {}),
      serve: { canaryDisablesMachine: flags.canaryDisableMachine !== false, acceptBrokenChain: Boolean(flags.acceptBrokenChain), ...(flags.geoipDb !== undefined ? { geoipDb: flags.geoipDb } : {}) },
    });
    return;
  }
  const store = await openServedStore(config);
  try {
    const running = await startServer({ store, rootKey, settings: config, log, canaryDisablesMachine: flags.canaryDisableMachine !== false, geoipDb: flags.geoipDb, acceptBrokenChain: Boolean(flags.acceptBrokenChain) });
    onSignals(running, { shutdownTimeoutMs: config.shutdownTimeoutMs, tls: config.tls, rootKeyFiles: config.rootKeyFiles });
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The primary's SIGHUP (it holds no store): the key files' keys, when one of them opens the store. */
async function checkRootKeyFiles(config: VaultConfig): Promise<Buffer[]> {
  const keys = await loadRootKeys({ files: config.rootKeyFiles });
  const store = await openServedStore(config);
  try {
    await openVault(store, keys);
    return keys;
  } finally {
    await store.close();
  }
}

/** `sikkerkey-vault check-config FILE`: the file and SIKKERKEY_VAULT_* variables, validated as `serve` would. */
export async function checkConfigCommand(file: string, opts: { json?: boolean }): Promise<void> {
  const config = loadVaultConfig({ file, env: process.env });
  if (config.tls) loadTlsContext(config.tls);
  for (const rootKeyFile of config.rootKeyFiles) {
    try {
      accessSync(rootKeyFile, fsConstants.R_OK);
    } catch (err) {
      throw new SikkerKeyError('SK_ERR_CONFIG', `rootKeyFile ${rootKeyFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const shown = describeVaultConfig(config);
  printResult(Boolean(opts.json), { valid: true, file, config: shown, warnings: config.warnings }, () => [
    `${file}: valid`,
    ...config.warnings.map((w) => `warning: ${w}`),
    `  store     ${config.dataDir !== undefined ? `SQLite in ${config.dataDir}` : `PostgreSQL ${String(shown.databaseUrl)}`}`,
    `  listen    ${config.listen}${config.tls ? ' (TLS)' : ' (plain HTTP)'}`,
    ...(config.publicUrl.length > 0 ? [`  public    ${config.publicUrl.join(', ')}`] : []),
    `  metrics   ${config.metrics.enabled ? '/metrics served' : 'off'}`,
  ].join('\n'));
}

export async function devCommand(opts: { listen: string; logLevel: string }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sikkerkey-dev-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    // The same rules as serve (a dev vault on a non-loopback address without TLS is refused too).
    const settings = loadVaultConfig({ env: {}, flags: { dataDir: join(dir, 'data'), listen: opts.listen, logLevel: opts.logLevel } });
    const log = createLogger({ level: settings.log.level });
    const operator = generateIdentityKey();
    const keyFile = join(dir, 'operator.key');
    writePrivateKeyFile(keyFile, operator.privateKey);
    const store = await openStore({ dataDir: join(dir, 'data') });
    const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(operator.publicKey).toString('base64'), operatorName: 'dev' });
    const running = await startServer({ store, rootKey, settings, log });
    onSignals(running, { shutdownTimeoutMs: settings.shutdownTimeoutMs, cleanup: removeDir, rootKeyNote: 'a dev vault\'s root key lives only in its memory' });
    process.stdout.write([
      '',
      'SikkerKey dev vault: ephemeral, for trying things. Everything lives in a temporary directory',
      `(${dir}) and is deleted when you stop it (Ctrl-C).`,
      '',
      `  vault URL     ${running.url}`,
      `  operator key  ${keyFile}`,
      `  root key      ${rootKey.toString('base64')}`,
      '  WARNING: a dev vault prints its root key. A real vault never does: use `sikkerkey-vault init`.',
      '',
      'In another terminal:',
      `  export SIKKERKEY_URL=${running.url} SIKKERKEY_KEY_FILE=${keyFile}`,
      '  npx sikkerkey project create demo',
      '  npx sikkerkey secret set demo db --fields-json \'{"username":"app","password":"s3cret"}\'',
      '  npx sikkerkey-agent init --key-file ./machine.key      # prints the machine\'s public key',
      '  npx sikkerkey machine add app1 --public-key <that key>',
      '  npx sikkerkey grant add app1 --project demo --secret db --fields username',
      '  SIKKERKEY_AGENT_KEY_FILE=./machine.key npx sikkerkey-agent get demo db',
      '',
    ].join('\n') + '\n');
  } catch (err) {
    removeDir();
    throw err;
  }
}

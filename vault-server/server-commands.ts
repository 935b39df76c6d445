import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../protocol/errors.js';
import { printResult } from '../protocol/cli.js';
import { parseDuration } from '../protocol/duration.js';
import { generateIdentityKey, writePrivateKeyFile } from '../protocol/keys.js';
import { loadRootKey } from './crypto/root-key.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/open-store.js';
import { createLogger } from './logging.js';
import { buildApp } from './app.js';
import { initVault, openVault } from './vault-state.js';

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
    const { rootKey, operatorKeyId } = await initVault(store, { operatorPublicKey: opts.operatorPublicKey, operatorName: opts.operatorName });
    printResult(Boolean(opts.json), { rootKey: rootKey.toString('base64'), operatorKeyId }, () => [
      'Vault created.',
      `Root key (shown once; store it offline, supply it at every start with --root-key-file, --root-key-stdin or SIKKERKEY_ROOT_KEY):`,
      `  ${rootKey.toString('base64')}`,
      `Operator key id: ${operatorKeyId}`,
    ].join('\n'));
  } finally {
    await store.close();
  }
}

interface ListenAddress { host?: string; port?: number; path?: string }

export function parseListen(text: string): ListenAddress {
  if (text.startsWith('unix:')) return { path: text.slice('unix:'.length) };
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new SikkerKeyError('SK_ERR_USAGE', `--listen ${JSON.stringify(text)}: expected host:port or unix:PATH`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function authorityOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    throw new SikkerKeyError('SK_ERR_USAGE', `--public-url ${JSON.stringify(url)} is not a URL`);
  }
}

interface Running { app: FastifyInstance; store: Store; url: string }

/** Opens the store, checks the root key, listens; the authority list follows the real port. */
interface NetworkOptions { allowCidr?: string[]; trustProxy?: string[] }

async function startServer(opts: { store: Store; rootKey: Buffer; listen: string; publicUrls: string[]; logLevel: string; rotationLeaseSeconds?: number; network?: NetworkOptions }): Promise<Running> {
  const log = createLogger({ level: opts.logLevel });
  const keyring = await openVault(opts.store, opts.rootKey);
  const authorities = opts.publicUrls.map(authorityOf);
  const { app } = await buildApp({
    store: opts.store, keyring, log, authorities,
    ...(opts.rotationLeaseSeconds ? { rotationLeaseSeconds: opts.rotationLeaseSeconds } : {}),
    ...(opts.network?.allowCidr ? { allowCidrs: opts.network.allowCidr } : {}),
    ...(opts.network?.trustProxy ? { trustProxy: opts.network.trustProxy } : {}),
  });
  const addr = parseListen(opts.listen);
  let url: string;
  if (addr.path) {
    await app.listen({ path: addr.path });
    url = `unix:${addr.path}`;
    if (authorities.length === 0) authorities.push('localhost');
  } else {
    await app.listen({ host: addr.host ?? '127.0.0.1', port: addr.port ?? 8200 });
    const bound = app.server.address();
    const port = typeof bound === 'object' && bound ? bound.port : addr.port;
    const host = addr.host?.includes(':') ? `[${addr.host}]` : addr.host;
    url = `http://${host}:${port}`;
    if (authorities.length === 0) {
      authorities.push(`${host}:${port}`);
      if (host === '127.0.0.1' || host === '[::1]') authorities.push(`localhost:${port}`);
    }
  }
  log.info({ url, authorities }, 'vault listening');
  return { app, store: opts.store, url };
}

function onSignals(running: Running, cleanup?: () => void): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1); // a second signal: at once
    stopping = true;
    running.app.log.info({ signal }, 'shutting down');
    void running.app.close().then(() => running.store.close()).finally(() => {
      cleanup?.();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function serveCommand(opts: { dataDir?: string; databaseUrl?: string; listen: string; publicUrl?: string[]; rootKeyFile?: string; rootKeyStdin?: boolean; logLevel: string; rotationLease?: string } & NetworkOptions): Promise<void> {
  const rootKey = await loadRootKey({ ...(opts.rootKeyFile ? { file: opts.rootKeyFile } : {}), stdin: Boolean(opts.rootKeyStdin), env: process.env });
  const store = await openStore(storeLocation(opts));
  try {
    const leaseMs = opts.rotationLease ? parseDuration(opts.rotationLease, '--rotation-lease') : undefined;
    if (leaseMs !== undefined && (leaseMs < 1000 || leaseMs > 600_000)) throw new SikkerKeyError('SK_ERR_USAGE', '--rotation-lease must be between 1s and 10m');
    const running = await startServer({ store, rootKey, listen: opts.listen, publicUrls: opts.publicUrl ?? [], logLevel: opts.logLevel, network: opts, ...(leaseMs ? { rotationLeaseSeconds: Math.round(leaseMs / 1000) } : {}) });
    onSignals(running);
  } catch (err) {
    await store.close();
    throw err;
  }
}

export async function devCommand(opts: { listen: string; logLevel: string }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sikkerkey-dev-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const operator = generateIdentityKey();
    const keyFile = join(dir, 'operator.key');
    writePrivateKeyFile(keyFile, operator.privateKey);
    const store = await openStore({ dataDir: join(dir, 'data') });
    const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(operator.publicKey).toString('base64'), operatorName: 'dev' });
    const running = await startServer({ store, rootKey, listen: opts.listen, publicUrls: [], logLevel: opts.logLevel });
    onSignals(running, removeDir);
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

/**
 * The vault server's configuration (`sikkerkey-vault serve --config FILE`): a JSON or YAML file,
 * overridden by `SIKKERKEY_VAULT_*` variables, overridden by flags; validated once, defaults
 * applied, frozen. An unknown key in the file is `SK_ERR_CONFIG` naming the nearest valid key.
 *
 * Every setting has one dotted file key; its variable is that key in SCREAMING_SNAKE_CASE after
 * `SIKKERKEY_VAULT_` (`tls.clientCa` → `SIKKERKEY_VAULT_TLS_CLIENT_CA`); list values in a variable
 * are comma-separated, booleans `true`/`false`/`1`/`0`. The root key itself is never a setting:
 * it comes from `rootKeyFile`, `--root-key-stdin` or `SIKKERKEY_ROOT_KEY`.
 *
 * @example
 *   const config = loadVaultConfig({ file: '/etc/sikkerkey/vault.yaml', env: process.env, flags: { listen: '0.0.0.0:8200' } });
 *   config.tls?.cert // '/etc/sikkerkey/tls/vault.crt'
 */
import { parseAuditSink } from './modules/audit/audit-sink.js';
import type { AuditSink } from './modules/audit/audit-sink.js';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { SikkerKeyError } from '../protocol/errors.js';
import { nearest, readConfigFile } from '../protocol/config-keys.js';
import { DURATION_FORMS, parseDuration } from '../protocol/duration.js';
import { parseCidrList } from './http/auth-guard.js';
import { describeUrl } from './store/open-store.js';

export interface VaultConfig {
  readonly dataDir: string | undefined;
  readonly databaseUrl: string | undefined;
  /** `host:port` or `unix:PATH`. */
  readonly listen: string;
  /** URLs clients use to reach this vault; their host[:port] are the `@authority` values accepted. */
  readonly publicUrl: readonly string[];
  /** One file, or two during a root-key rotation without downtime (old and new; re-read on SIGHUP). */
  readonly rootKeyFiles: readonly string[];
  readonly log: { readonly level: string };
  readonly rotationLeaseSeconds: number;
  readonly allowCidr: readonly string[];
  readonly trustProxy: readonly string[];
  /** Private ranges webhook deliveries may go to (all else must be public; modules/webhooks/webhook-transport.ts). */
  readonly webhookAllowCidr: readonly string[];
  /** Certificate and key files (PEM); `clientCa` makes client certificates from that CA mandatory. */
  readonly tls: { readonly cert: string; readonly key: string; readonly clientCa: string | undefined } | undefined;
  /** Plain HTTP on a non-loopback address was asked for explicitly. */
  readonly insecureListen: boolean;
  readonly metrics: { readonly enabled: boolean };
  /** How long in-flight requests may take to finish after SIGTERM. */
  readonly shutdownTimeoutMs: number;
  /** Ed25519 verifications in flight at once before SK_ERR_VERIFY_BUSY; undefined: 2 × cores × 32. */
  readonly verifyConcurrency: number | undefined;
  /** --max-connections as given (undefined: the default); start-up caps it at `ulimit -n` − 256. */
  readonly maxConnections: number | undefined;
  /** Days a deleted project or secret stays in the trash before it is purged; undefined: 30. */
  readonly trashDays: number | undefined;
  /** `--audit-retention`: prune audit events older than this (ms); undefined keeps them forever. */
  readonly auditRetentionMs: number | undefined;
  /** `--audit-sink`: where every audit event is streamed as it commits. */
  readonly auditSink: AuditSink | undefined;
  /** --workers as given (undefined: os.availableParallelism()); 1 serves in this process, more fork workers sharing the listener. */
  readonly workers: number | undefined;
  /** PostgreSQL: connections per vault process (default 10). */
  readonly databasePoolSize: number;
  /** PostgreSQL: `statement_timeout` of every connection, in ms (default 5 s). */
  readonly statementTimeoutMs: number;
  /** Things worth a log line at start (never fatal): e.g. an unknown SIKKERKEY_VAULT_ variable. */
  readonly warnings: readonly string[];
}

type Kind = 'string' | 'list' | 'boolean' | 'duration' | 'level' | 'count';

interface Setting {
  /** Dotted key in the config file. */
  key: string;
  kind: Kind;
  /** The flag that overrides it (commander's camelCase attribute name), if any. */
  flag?: string;
  /** Shown in docs and `check-config --help`. */
  about: string;
}

/** The old and the new root key, during a rotation (docs/operations.md "Rotating the root key"). */
export const MAX_ROOT_KEY_FILES = 2;

/** More processes than this would only contend for the store. */
export const MAX_WORKERS = 64;

/** Every setting the vault reads; the one list the file, the variables, the flags and the docs follow. */
export const VAULT_SETTINGS: readonly Setting[] = [
  { key: 'dataDir', kind: 'string', flag: 'dataDir', about: 'embedded SQLite store in this directory' },
  { key: 'databaseUrl', kind: 'string', flag: 'databaseUrl', about: 'PostgreSQL store URL (scale-out)' },
  { key: 'listen', kind: 'string', flag: 'listen', about: 'host:port or unix:PATH (default 127.0.0.1:8200)' },
  { key: 'publicUrl', kind: 'list', flag: 'publicUrl', about: 'URLs clients use (https://…); fixes the @authority signatures cover' },
  { key: 'rootKeyFile', kind: 'list', flag: 'rootKeyFile', about: 'file holding the root key (base64); twice while rotating it (old and new); re-read on SIGHUP' },
  { key: 'log.level', kind: 'level', flag: 'logLevel', about: 'fatal, error, warn, info (default), debug, trace, silent' },
  { key: 'rotationLease', kind: 'duration', flag: 'rotationLease', about: 'how long an agent\'s claim holds without a heartbeat (1s–10m, default 30s)' },
  { key: 'allowCidr', kind: 'list', flag: 'allowCidr', about: 'only these source ranges may reach the vault (health checks exempt)' },
  { key: 'trustProxy', kind: 'list', flag: 'trustProxy', about: 'believe X-Forwarded-For only from these proxies' },
  { key: 'webhookAllowCidr', kind: 'list', flag: 'webhookAllowCidr', about: 'webhook deliveries may go to these private ranges (and only there over plain http)' },
  { key: 'tls.cert', kind: 'string', flag: 'tlsCert', about: 'server certificate chain (PEM); reloaded on SIGHUP' },
  { key: 'tls.key', kind: 'string', flag: 'tlsKey', about: 'server private key (PEM); reloaded on SIGHUP' },
  { key: 'tls.clientCa', kind: 'string', flag: 'tlsClientCa', about: 'require client certificates issued by this CA (PEM)' },
  { key: 'insecureListen', kind: 'boolean', flag: 'insecureListen', about: 'allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy)' },
  { key: 'metrics.enabled', kind: 'boolean', about: 'serve /metrics (default true)' },
  { key: 'shutdownTimeout', kind: 'duration', flag: 'shutdownTimeout', about: 'how long in-flight requests may finish after SIGTERM (default 10s)' },
  { key: 'verifyConcurrency', kind: 'count', flag: 'verifyConcurrency', about: 'signature verifications in flight at once before 503 SK_ERR_VERIFY_BUSY (default 2 × cores × 32)' },
  { key: 'maxConnections', kind: 'count', flag: 'maxConnections', about: 'concurrent connections, long-polls included (default 10000; at most `ulimit -n` − 256)' },
  { key: 'auditRetention', kind: 'duration', flag: 'auditRetention', about: 'prune audit events older than this (at least 1d, e.g. 400d), keeping a signed checkpoint of the pruned range; default: keep forever' },
  { key: 'auditSink', kind: 'string', flag: 'auditSink', about: 'stream every audit event as it commits: stdout, file:PATH (JSON lines, at least once, fsync before the cursor moves), syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT (RFC 5424)' },
  { key: 'auditSinkCa', kind: 'string', flag: 'auditSinkCa', about: 'with a syslog+tls:// sink: trust only this CA (PEM) for the receiver\'s certificate instead of the system CAs' },
  { key: 'trashDays', kind: 'count', flag: 'trashDays', about: 'days a deleted project or secret stays in the trash before the sweeper purges it (default 30)' },
  { key: 'workers', kind: 'count', flag: 'workers', about: `worker processes sharing the listener (1–${MAX_WORKERS}; default: the CPUs available; 1 serves in one process)` },
  { key: 'databasePoolSize', kind: 'count', flag: 'databasePoolSize', about: 'PostgreSQL connections per vault process (1–1000, default 10)' },
  { key: 'statementTimeout', kind: 'duration', flag: 'statementTimeout', about: 'PostgreSQL statement_timeout of every connection (100ms–10m, default 5s)' },
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ENV_PREFIX = 'SIKKERKEY_VAULT_';

/** `tls.clientCa` → `SIKKERKEY_VAULT_TLS_CLIENT_CA`. */
export function envNameOf(key: string): string {
  return ENV_PREFIX + key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** The flags `serve` accepts, as commander parses them (every one optional). */
export interface VaultFlags {
  dataDir?: string;
  databaseUrl?: string;
  listen?: string;
  publicUrl?: string[];
  rootKeyFile?: string[];
  logLevel?: string;
  rotationLease?: string;
  allowCidr?: string[];
  trustProxy?: string[];
  webhookAllowCidr?: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  insecureListen?: boolean;
  shutdownTimeout?: string;
  verifyConcurrency?: string;
  maxConnections?: string;
  databasePoolSize?: string;
  statementTimeout?: string;
  trashDays?: string;
  auditRetention?: string;
  auditSink?: string;
  auditSinkCa?: string;
  workers?: string;
}

export interface LoadVaultConfigRequest {
  /** `--config FILE`: `.json` is JSON, anything else YAML (which also reads JSON). */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: VaultFlags;
}

function fail(message: string): never {
  throw new SikkerKeyError('SK_ERR_CONFIG', message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Flattens the file's object to dotted keys, rejecting unknown keys with the nearest valid one. */
function flattenFile(obj: Record<string, unknown>, file: string): Map<string, unknown> {
  const keys = VAULT_SETTINGS.map((s) => s.key);
  const sections = new Set(keys.filter((k) => k.includes('.')).map((k) => k.split('.')[0] as string));
  const out = new Map<string, unknown>();
  for (const [name, value] of Object.entries(obj)) {
    if (sections.has(name)) {
      if (!isPlainObject(value)) fail(`${file}: ${name} must be an object (${keys.filter((k) => k.startsWith(`${name}.`)).join(', ')})`);
      const inner = keys.filter((k) => k.startsWith(`${name}.`)).map((k) => k.slice(name.length + 1));
      for (const [sub, subValue] of Object.entries(value)) {
        if (!inner.includes(sub)) fail(`${file}: unknown setting ${name}.${sub}: did you mean ${name}.${nearest(sub, inner)}?`);
        out.set(`${name}.${sub}`, subValue);
      }
    } else if (keys.includes(name)) {
      out.set(name, value);
    } else {
      // Compared with every dotted key, so `tlsCert` suggests `tls.cert`.
      fail(`${file}: unknown setting ${name}: did you mean ${nearest(name, [...keys, ...sections])}?`);
    }
  }
  return out;
}

/**
 * Loads, merges and validates the vault configuration; the result is frozen. Precedence: flags,
 * then `SIKKERKEY_VAULT_*`, then the file, then defaults. Throws SK_ERR_CONFIG naming the setting.
 */
export function loadVaultConfig(req: LoadVaultConfigRequest = {}): VaultConfig {
  const env = req.env ?? process.env;
  const flags = req.flags ?? {};
  const warnings: string[] = [];
  const raw = new Map<string, { value: unknown; from: string }>();
  if (req.file !== undefined) {
    for (const [key, value] of flattenFile(readConfigFile(req.file), req.file)) raw.set(key, { value, from: `${key} in ${req.file}` });
  }

  const envNames = new Map(VAULT_SETTINGS.map((s) => [envNameOf(s.key), s]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || value === '') continue;
    const setting = envNames.get(name);
    if (setting === undefined) {
      // DESIGN §11: unknown variables are ignored — but a typo deserves a line in the log.
      warnings.push(`${name} is not a setting and is ignored (did you mean ${nearest(name, [...envNames.keys()])}?)`);
      continue;
    }
    raw.set(setting.key, { value: fromEnv(setting, value, name), from: name });
  }

  const flagValues = flags as Record<string, unknown>;
  for (const s of VAULT_SETTINGS) {
    if (s.flag === undefined) continue;
    const v = flagValues[s.flag];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    raw.set(s.key, { value: v, from: `--${s.flag.replace(/([A-Z])/g, '-$1').toLowerCase()}` });
  }

  const get = <T>(key: string, check: (v: unknown, from: string) => T): T | undefined => {
    const entry = raw.get(key);
    return entry === undefined ? undefined : check(entry.value, entry.from);
  };
  const str = (v: unknown, from: string): string => {
    if (typeof v !== 'string' || v.trim() === '') fail(`${from} must be a non-empty string`);
    return v;
  };
  const list = (v: unknown, from: string): string[] => {
    const items = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(items) || items.some((i) => typeof i !== 'string' || i.trim() === '')) fail(`${from} must be a list of non-empty strings`);
    return items as string[];
  };
  const bool = (v: unknown, from: string): boolean => {
    if (typeof v !== 'boolean') fail(`${from} must be true or false`);
    return v;
  };
  const count = (v: unknown, from: string): number => {
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000) fail(`${from} must be a whole number from 1 to 1000000`);
    return n;
  };
  const duration = (v: unknown, from: string, min: number, max: number): number => {
    if (typeof v !== 'string' && typeof v !== 'number') fail(`${from} must be a duration: ${DURATION_FORMS}`);
    const ms = parseDuration(v, from, 'SK_ERR_CONFIG');
    if (ms < min || ms > max) fail(`${from} must be between ${min / 1000}s and ${max / 60_000}m`);
    return ms;
  };

  const dataDir = get('dataDir', str);
  const databaseUrl = get('databaseUrl', str);
  if (dataDir !== undefined && databaseUrl !== undefined) {
    fail(`give either dataDir (${raw.get('dataDir')?.from}) or databaseUrl (${raw.get('databaseUrl')?.from}), not both`);
  }
  if (dataDir === undefined && databaseUrl === undefined) {
    fail('where is the store? give --data-dir DIR (embedded SQLite) or --database-url URL (PostgreSQL), or dataDir / databaseUrl in the config file');
  }

  const listen = get('listen', str) ?? '127.0.0.1:8200';
  const address = parseListenAddress(listen, raw.get('listen')?.from ?? '--listen');

  const level = get('log.level', str) ?? 'info';
  if (!LOG_LEVELS.includes(level)) fail(`${raw.get('log.level')?.from} must be one of ${LOG_LEVELS.join(', ')}`);

  const leaseMs = get('rotationLease', (v, from) => duration(v, from, 1000, 600_000)) ?? 30_000;
  const shutdownTimeoutMs = get('shutdownTimeout', (v, from) => duration(v, from, 1000, 600_000)) ?? 10_000;
  const statementTimeoutMs = get('statementTimeout', (v, from) => duration(v, from, 100, 600_000)) ?? 5_000;


  const allowCidr = get('allowCidr', list) ?? [];
  const trustProxy = get('trustProxy', list) ?? [];
  parseCidrList(allowCidr, raw.get('allowCidr')?.from ?? '--allow-cidr');
  parseCidrList(trustProxy, raw.get('trustProxy')?.from ?? '--trust-proxy');
  const webhookAllowCidr = get('webhookAllowCidr', list) ?? [];
  parseCidrList(webhookAllowCidr, raw.get('webhookAllowCidr')?.from ?? '--webhook-allow-cidr');

  const cert = get('tls.cert', str);
  const key = get('tls.key', str);
  const clientCa = get('tls.clientCa', str);
  if ((cert === undefined) !== (key === undefined)) {
    fail(cert === undefined ? `${raw.get('tls.key')?.from} needs a certificate too: give --tls-cert` : `${raw.get('tls.cert')?.from} needs its private key too: give --tls-key`);
  }
  if (clientCa !== undefined && cert === undefined) fail(`${raw.get('tls.clientCa')?.from} needs TLS: give --tls-cert and --tls-key`);
  const tls = cert !== undefined && key !== undefined ? Object.freeze({ cert, key, clientCa }) : undefined;
  // Clients speak plain HTTP over unix: (the socket's permissions are its protection).
  if (tls !== undefined && address.path !== undefined) fail(`${raw.get('listen')?.from ?? '--listen'} ${listen}: TLS is for TCP listeners; a unix: socket is served without it`);

  const insecureListen = get('insecureListen', bool) ?? false;
  const plaintextAbroad = tls === undefined && address.path === undefined && !isLoopbackHost(address.host);
  if (plaintextAbroad && !insecureListen) {
    fail(`${raw.get('listen')?.from ?? '--listen'} ${listen} would serve plain HTTP on a non-loopback address: signed requests and secret values would cross the network unencrypted. `
      + 'Give --tls-cert and --tls-key, listen on loopback or unix:PATH, or — only behind a TLS-terminating proxy on a trusted network — pass --insecure-listen');
  }
  if (insecureListen) {
    warnings.push(plaintextAbroad
      ? `--insecure-listen: serving plain HTTP on ${listen}; requests, claims and secret values travel unencrypted unless a TLS-terminating proxy sits in front`
      : '--insecure-listen is set but not needed (TLS is on or the address is loopback)');
  }

  const rootKeyFiles = get('rootKeyFile', list) ?? [];
  if (rootKeyFiles.length > MAX_ROOT_KEY_FILES) fail(`${raw.get('rootKeyFile')?.from} names ${rootKeyFiles.length} files: at most ${MAX_ROOT_KEY_FILES} (the old and the new key, while rotating it)`);

  const publicUrl = get('publicUrl', list) ?? [];
  for (const u of publicUrl) checkPublicUrl(u, insecureListen);

  const metricsEnabled = get('metrics.enabled', bool) ?? true;
  const verifyConcurrency = get('verifyConcurrency', count);
  const maxConnections = get('maxConnections', count);
  const workers = get('workers', count);
  const trashDays = get('trashDays', count);
  const auditSinkText = get('auditSink', str);
  let auditSink = auditSinkText !== undefined ? parseAuditSink(auditSinkText) : undefined;
  const auditSinkCa = get('auditSinkCa', str);
  if (auditSinkCa !== undefined) {
    if (auditSink?.kind !== 'syslog' || !auditSink.tls) fail(`${raw.get('auditSinkCa')?.from} needs a syslog+tls:// audit sink`);
    let ca: string;
    try {
      ca = readFileSync(auditSinkCa, 'utf8');
    } catch (err) {
      fail(`${raw.get('auditSinkCa')?.from}: cannot read ${JSON.stringify(auditSinkCa)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) fail(`${raw.get('auditSinkCa')?.from}: ${JSON.stringify(auditSinkCa)} holds no PEM certificate`);
    auditSink = Object.freeze({ ...auditSink, ca });
  }
  const auditRetentionMs = get('auditRetention', (v, from) => duration(v, from, 86_400_000, 36_500 * 86_400_000));
  if (workers !== undefined && workers > MAX_WORKERS) fail(`${raw.get('workers')?.from} must be from 1 to ${MAX_WORKERS}`);
  const databasePoolSize = get('databasePoolSize', count) ?? 10;
  if (databasePoolSize > 1000) fail(`${raw.get('databasePoolSize')?.from} must be from 1 to 1000`);
  if (dataDir !== undefined && (raw.has('databasePoolSize') || raw.has('statementTimeout'))) {
    warnings.push('databasePoolSize and statementTimeout apply to a PostgreSQL store only; the SQLite store ignores them');
  }

  return Object.freeze({
    dataDir,
    databaseUrl,
    listen,
    publicUrl: Object.freeze([...publicUrl]),
    rootKeyFiles: Object.freeze([...rootKeyFiles]),
    log: Object.freeze({ level }),
    rotationLeaseSeconds: Math.round(leaseMs / 1000),
    allowCidr: Object.freeze([...allowCidr]),
    trustProxy: Object.freeze([...trustProxy]),
    webhookAllowCidr: Object.freeze([...webhookAllowCidr]),
    tls,
    insecureListen,
    metrics: Object.freeze({ enabled: metricsEnabled }),
    verifyConcurrency,
    shutdownTimeoutMs,
    maxConnections,
    workers,
    trashDays,
    databasePoolSize,
    statementTimeoutMs,
    auditRetentionMs,
    auditSink,
    warnings: Object.freeze(warnings),
  });
}

function fromEnv(setting: Setting, value: string, name: string): unknown {
  switch (setting.kind) {
    case 'list':
      return value.split(',').map((v) => v.trim()).filter(Boolean);
    case 'boolean':
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      return fail(`${name} must be true or false`);
    default:
      return value;
  }
}

export interface ListenAddress { host?: string; port?: number; path?: string }

/** `host:port` (IPv6 in brackets) or `unix:PATH`. */
export function parseListenAddress(text: string, from = '--listen'): ListenAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') fail(`${from}: unix: needs a socket path (unix:/run/sikkerkey/vault.sock)`);
    return { path };
  }
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) fail(`${from} ${JSON.stringify(text)}: expected host:port or unix:PATH`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** 127.0.0.0/8, ::1 and the name localhost: addresses no other machine can reach. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

function checkPublicUrl(text: string, insecureListen: boolean): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`--public-url ${JSON.stringify(text)} is not a URL (https://vault.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`--public-url ${text}: use https://`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    fail(`--public-url ${text}: must be scheme://host[:port] without a path, query, fragment or credentials`);
  }
  // Clients refuse http:// to anything but loopback; a public http:// URL could only ever fail.
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !insecureListen) {
    fail(`--public-url ${text}: clients refuse plain http:// to a non-loopback host; use https:// (or --insecure-listen for a trusted network)`);
  }
}

/** The effective configuration as it may be shown: the database URL's password is masked. */
export function describeVaultConfig(config: VaultConfig): Record<string, unknown> {
  const { warnings: _warnings, ...rest } = config;
  return { ...rest, databaseUrl: config.databaseUrl === undefined ? undefined : describeUrl(config.databaseUrl).shown };
}

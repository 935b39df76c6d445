import { SikkerKeyError } from '../protocol/errors.js';
import { nearest, readConfigFile } from '../protocol/config-keys.js';
import { DURATION_FORMS, parseDuration } from '../protocol/duration.js';
import { dirname, resolve } from 'node:path';
import { parseTemplates } from './delivery/templates.js';
import type { TemplateConfig } from './delivery/templates.js';

/** The agent's configuration, validated once and frozen (`sikkerkey-agent run --config FILE`). */
export interface AgentConfig {
  readonly vaultUrl: string;
  readonly keyFile: string;
  readonly health: { readonly listen: string };
  /** Rotations worked on at once. */
  readonly concurrency: number;
  readonly log: { readonly level: string };
  readonly caFile: string | undefined;
  readonly pinSha256: string | undefined;
  /** Seconds one long-poll waits for work (1–60; the setting is a duration: 30, 30s, 1m). */
  readonly pollWaitSeconds: number;
  /** Seconds between asking the vault for due drift probes (1–3600; each policy sets how often it is probed). */
  readonly driftPollSeconds: number;
  /**
   * Seconds between lease reconciles (10–86400, default 300; also once at start): list the
   * engines' `sk` logins of the lease roles this machine serves and drop those of this vault
   * whose lease is not live (docs/leases-agent.md).
   */
  readonly leaseReconcileSeconds: number;
  /** Files rendered from secrets and kept current (agent/delivery/templates.ts). */
  readonly templates: readonly TemplateConfig[];
  /** Offline cache of delivered values (agent/delivery/offline-cache.ts); undefined: none. */
  readonly cacheDir: string | undefined;
  /** Oldest cached value served when the vault is unreachable, in milliseconds (default 24 h). */
  readonly cacheMaxAgeMs: number;
}

const TOP_KEYS = ['vaultUrl', 'keyFile', 'health', 'concurrency', 'log', 'caFile', 'pinSha256', 'pollWaitSeconds', 'driftPollSeconds', 'leaseReconcileSeconds', 'templates', 'cacheDir', 'cacheMaxAge'] as const;
const NESTED_KEYS: Record<string, readonly string[]> = { health: ['listen'], log: ['level'] };
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** SIKKERKEY_AGENT_<NAME> overrides the config key it names. */
const ENV_OVERRIDES: ReadonlyArray<[string, string[]]> = [
  ['SIKKERKEY_AGENT_VAULT_URL', ['vaultUrl']],
  ['SIKKERKEY_AGENT_KEY_FILE', ['keyFile']],
  ['SIKKERKEY_AGENT_HEALTH_LISTEN', ['health', 'listen']],
  ['SIKKERKEY_AGENT_CONCURRENCY', ['concurrency']],
  ['SIKKERKEY_AGENT_LOG_LEVEL', ['log', 'level']],
  ['SIKKERKEY_AGENT_CA_FILE', ['caFile']],
  ['SIKKERKEY_AGENT_PIN_SHA256', ['pinSha256']],
  ['SIKKERKEY_AGENT_POLL_WAIT_SECONDS', ['pollWaitSeconds']],
  ['SIKKERKEY_AGENT_DRIFT_POLL_SECONDS', ['driftPollSeconds']],
  ['SIKKERKEY_AGENT_LEASE_RECONCILE_SECONDS', ['leaseReconcileSeconds']],
];

function fail(message: string): never {
  throw new SikkerKeyError('SK_ERR_CONFIG', message);
}


/**
 * A machine's labels are part of its identity at the vault: the enrollment (or bootstrap) token
 * gives them, and the vault matches `--agent-label` policies against those alone. The agent once
 * had a `labels` setting that nothing read; it is refused so that no one relies on it.
 */
const LABELS_REFUSED = 'the agent has no labels setting: a machine\'s labels are the ones its enrollment token gave it '
  + '(sikkerkey enroll-token create --label L, or bootstrap-token create --label L); the vault matches --agent-label policies against those. Remove';

function checkKeys(obj: Record<string, unknown>, valid: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!valid.includes(key)) fail(`unknown setting ${where}${key}: did you mean ${where}${nearest(key, valid)}?`);
  }
}

/**
 * Loads and validates the agent configuration. Precedence: `SIKKERKEY_AGENT_*` variables, then the
 * file, then the generic `SIKKERKEY_URL` (for `vaultUrl`) and defaults.
 */
export function loadAgentConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  if ('labels' in raw) fail(`${LABELS_REFUSED} labels from ${file}`);
  if (env.SIKKERKEY_AGENT_LABELS) fail(`${LABELS_REFUSED} SIKKERKEY_AGENT_LABELS`);
  checkKeys(raw, TOP_KEYS, '');
  for (const [section, keys] of Object.entries(NESTED_KEYS)) {
    const value = raw[section];
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${section} must be an object`);
    checkKeys(value as Record<string, unknown>, keys, `${section}.`);
  }
  for (const [name, path] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (path.length === 2) {
      const [section, key] = path as [string, string];
      raw[section] = { ...(raw[section] as Record<string, unknown> | undefined), [key]: value };
    } else {
      raw[path[0] as string] = value;
    }
  }
  const str = (v: unknown, name: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) fail(`${name} must be a non-empty string`);
    return v;
  };
  const int = (v: unknown, name: string, min: number, max: number, def: number): number => {
    if (v === undefined) return def;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) fail(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const seconds = (v: unknown, name: string, min: number, max: number, def: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'string' && typeof v !== 'number') fail(`${name}: use a duration: ${DURATION_FORMS}`);
    const ms = parseDuration(v, name, 'SK_ERR_CONFIG');
    if (ms % 1000 !== 0 || ms < min * 1000 || ms > max * 1000) fail(`${name} must be whole seconds from ${min}s to ${max}s`);
    return ms / 1000;
  };
  const vaultUrl = str(raw.vaultUrl, 'vaultUrl') ?? (env.SIKKERKEY_URL || undefined) ?? fail('vaultUrl is required (config key vaultUrl, or SIKKERKEY_AGENT_VAULT_URL)');
  const keyFile = str(raw.keyFile, 'keyFile') ?? fail('keyFile is required (config key keyFile, or SIKKERKEY_AGENT_KEY_FILE)');
  const health = (raw.health ?? {}) as Record<string, unknown>;
  const log = (raw.log ?? {}) as Record<string, unknown>;
  const level = str(log.level, 'log.level') ?? 'info';
  if (!LOG_LEVELS.includes(level)) fail(`log.level must be one of ${LOG_LEVELS.join(', ')}`);
  return Object.freeze({
    vaultUrl,
    keyFile,
    health: Object.freeze({ listen: str(health.listen, 'health.listen') ?? '127.0.0.1:9464' }),
    concurrency: int(raw.concurrency, 'concurrency', 1, 16, 1),
    log: Object.freeze({ level }),
    caFile: str(raw.caFile, 'caFile'),
    pinSha256: str(raw.pinSha256, 'pinSha256'),
    pollWaitSeconds: seconds(raw.pollWaitSeconds, 'pollWaitSeconds', 1, 60, 30),
    driftPollSeconds: seconds(raw.driftPollSeconds, 'driftPollSeconds', 1, 3600, 60),
    leaseReconcileSeconds: seconds(raw.leaseReconcileSeconds, 'leaseReconcileSeconds', 10, 86_400, 300),
    templates: parseTemplates(raw.templates, file ? dirname(resolve(file)) : process.cwd()),
    cacheDir: str(raw.cacheDir, 'cacheDir'),
    cacheMaxAgeMs: seconds(raw.cacheMaxAge, 'cacheMaxAge', 1, 30 * 86_400, 86_400) * 1000,
  });
}

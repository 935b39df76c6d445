import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Engine, Strategy } from '../../../protocol/api-types.js';

/**
 * Which strategies each engine supports. `dual` needs engine-native overlap: Redis ACL users can
 * hold two passwords; MySQL ≥ 8.0.14 has RETAIN CURRENT PASSWORD (MariaDB has not — the agent
 * refuses it there at preflight, since the vault cannot tell the two apart from the engine name).
 */
const SUPPORTED: Record<Engine, readonly Strategy[]> = {
  postgres: ['single', 'alternating'],
  supabase: ['single', 'alternating'],
  mysql: ['single', 'dual', 'alternating'],
  redis: ['single', 'dual', 'alternating'],
  mongodb: ['single', 'alternating'],
};

export function assertStrategySupported(engine: Engine, strategy: Strategy): void {
  if (SUPPORTED[engine].includes(strategy)) return;
  const hint = strategy === 'dual' && engine !== 'redis' && engine !== 'mysql'
    ? `; ${engine} has no engine-native dual passwords: use --strategy alternating (two users)`
    : '';
  throw new SikkerKeyError('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', `strategy ${strategy} is not supported for ${engine}${hint}`);
}

/** The fields a database secret must hold before it can be rotated. */
export const REQUIRED_DATABASE_FIELDS = ['host', 'port', 'username', 'password'] as const;

export function assertDatabaseFields(fields: Record<string, string>, what: string): void {
  const missing = REQUIRED_DATABASE_FIELDS.filter((f) => !fields[f]);
  if (missing.length > 0) {
    throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `${what} lacks the field(s) ${missing.join(', ')}: a database secret holds host, port, username and password`);
  }
}

/** How long a claim holds before another agent may take the rotation over. */
export const LEASE_SECONDS = 30;
/** Unproven failures (live not verified) before the rotation is declared stuck. */
export const MAX_UNPROVEN_ATTEMPTS = 5;
/** Backoff before an unproven failure is retried: 2^attempt seconds (max 5 min), ±25 % jitter. */
export function retryDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.min(attempt, 12));
  return Math.round(base * (0.75 + random() * 0.5));
}

import { SikkerKeyError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses an operator-written duration such as `90s`, `10m`, `2h`, `30d` or `1h30m` into
 * milliseconds. Anything else is a usage error naming the option it came from.
 *
 * @example parseDuration('1h30m', '--grace') // 5_400_000
 */
export function parseDuration(text: string, option: string): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new SikkerKeyError('SK_ERR_VALIDATION', `${option}: ${JSON.stringify(text)} is not a duration (examples: 90s, 10m, 2h, 30d, 1h30m)`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] as string] ?? 0), 0);
}

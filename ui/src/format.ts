/**
 * Small display helpers shared by the pages: times, durations, and route hashes.
 *
 * @example
 *   when(1767000000000); // '2025-12-29 09:20:00 UTC'
 */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The hash link of a page: `#/projects/db/secrets/app`. */
export const link = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;

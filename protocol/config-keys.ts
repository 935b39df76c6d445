/**
 * "Did you mean" for configuration keys, shared by the agent's and the vault's config loaders:
 * an unknown key is rejected with the nearest valid name (Levenshtein distance, case-insensitive),
 * so a typo or a renamed option fails loudly with the name to use.
 *
 * @example
 *   nearest('tls.clinetCa', ['tls.cert', 'tls.key', 'tls.clientCa']) // 'tls.clientCa'
 */

/** Levenshtein distance, ignoring case. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The valid name closest to `key` (the first of equally close ones, in `valid`'s order). */
export function nearest(key: string, valid: readonly string[]): string {
  return [...valid].sort((x, y) => editDistance(key, x) - editDistance(key, y))[0] ?? '';
}

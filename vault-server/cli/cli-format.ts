import { SikkerKeyError } from '../../protocol/errors.js';
import { parseDuration } from '../../protocol/duration.js';

/** A plain left-aligned text table for humans; `--json` is the machine-readable form. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `--since` as an ISO time or a duration before now (`1h`, `7d`). */
export function parseSince(text: string, now = Date.now()): number {
  if (/^\d+(ms|s|m|h|d|w)/.test(text)) return now - parseDuration(text, '--since');
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new SikkerKeyError('SK_ERR_USAGE', `--since ${JSON.stringify(text)}: give an ISO time or a duration like 1h`);
  return t;
}

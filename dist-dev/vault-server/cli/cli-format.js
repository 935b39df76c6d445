import { SikkerKeyError } from '../../protocol/errors.js';
import { parseDuration } from '../../protocol/duration.js';
/** A plain left-aligned text table for humans; `--json` is the machine-readable form. */
export function table(headers, rows) {
    if (rows.length === 0)
        return '(none)';
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
    return [line(headers), ...rows.map(line)].join('\n');
}
export async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin)
        chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
}
/**
 * A commander option parser for a duration the vault reads (`--grace`, `--expires-in`…): checks
 * the syntax here, so a typo is a usage error naming the flag before anything is sent, and passes
 * the text on unchanged.
 */
export function durationArg(flag) {
    return (value) => {
        parseDuration(value, flag);
        return value;
    };
}
/** `--since` as an ISO time or a duration before now (`1h`, `7d`; a bare number is seconds). */
export function parseSince(text, now = Date.now()) {
    if (/^\d+[a-z]*$/i.test(text))
        return now - parseDuration(text, '--since');
    const t = Date.parse(text);
    if (Number.isNaN(t))
        throw new SikkerKeyError('SK_ERR_USAGE', `--since ${JSON.stringify(text)}: give an ISO time or a duration like 1h`);
    return t;
}
//# sourceMappingURL=cli-format.js.map
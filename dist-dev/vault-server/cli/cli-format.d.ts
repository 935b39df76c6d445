/** A plain left-aligned text table for humans; `--json` is the machine-readable form. */
export declare function table(headers: string[], rows: string[][]): string;
export declare function readStdin(): Promise<string>;
/**
 * A commander option parser for a duration the vault reads (`--grace`, `--expires-in`…): checks
 * the syntax here, so a typo is a usage error naming the flag before anything is sent, and passes
 * the text on unchanged.
 */
export declare function durationArg(flag: string): (value: string) => string;
/** `--since` as an ISO time or a duration before now (`1h`, `7d`; a bare number is seconds). */
export declare function parseSince(text: string, now?: number): number;

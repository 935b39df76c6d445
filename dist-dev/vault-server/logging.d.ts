import type { Logger } from 'pino';
/**
 * Every field that can carry a secret value (the wire-derived list in protocol/secret-fields.ts),
 * a key or a signature. pino replaces them before a line is written (the agent's providers
 * also scrub secret values out of driver error messages: providers/sanitize.ts).
 */
export declare const REDACT_PATHS: readonly string[];
export declare function createLogger(opts?: {
    level?: string;
    destination?: NodeJS.WritableStream;
}): Logger;

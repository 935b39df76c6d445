import { pino } from 'pino';
import { SECRET_REDACT_PATHS } from '../protocol/secret-fields.js';
/**
 * Every field that can carry a secret value (the wire-derived list in protocol/secret-fields.ts),
 * a key or a signature. pino replaces them before a line is written (the agent's providers
 * also scrub secret values out of driver error messages: providers/sanitize.ts).
 */
export const REDACT_PATHS = [
    ...SECRET_REDACT_PATHS,
    'req.headers.signature', 'req.headers["signature-input"]', 'req.headers.authorization',
    'headers.signature', 'body', '*.body',
];
export function createLogger(opts = {}) {
    const options = {
        level: opts.level ?? process.env.SIKKERKEY_LOG_LEVEL ?? 'info',
        redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
        base: { pid: process.pid },
    };
    // pino transports run in worker threads that load files from disk (not possible in a single
    // executable), so logs always go to a plain stream.
    return opts.destination ? pino(options, opts.destination) : pino(options);
}
//# sourceMappingURL=logging.js.map
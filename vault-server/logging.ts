import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';

/**
 * Every field that can carry a secret value, a key or a signature. pino replaces them before a
 * line is written; the sanitizer below catches values that end up inside free-text messages.
 */
export const REDACT_PATHS = [
  'value', '*.value', 'fields', '*.fields', 'password', '*.password', 'pendingValue', '*.pendingValue',
  'liveValue', '*.liveValue', 'admin', '*.admin', 'rootKey', '*.rootKey', 'token', '*.token',
  'req.headers.signature', 'req.headers["signature-input"]', 'req.headers.authorization',
  'headers.signature', 'body', '*.body',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.SIKKERKEY_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  // pino transports run in worker threads that load files from disk (not possible in a single
  // executable), so logs always go to a plain stream.
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

/**
 * Replaces every known secret value inside a message (Vault's dbplugin error-sanitizer idea):
 * a driver error that quotes the statement it failed on must not carry the password into a log.
 */
export function sanitizeMessage(message: string, secretValues: Iterable<string>): string {
  let out = message;
  for (const value of secretValues) {
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  }
  return out;
}

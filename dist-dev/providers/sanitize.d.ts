/**
 * The error sanitizer (Vault's `NewDatabaseErrorSanitizerMiddleware`): a wrapper around any
 * provider that replaces every secret value the provider was handed with `[redacted]` in every
 * error that comes out of it — message, stack, the messages of its causes, and its details.
 * Whatever comes out is a SikkerKeyError: provider codes are kept, anything else becomes
 * `SK_ERR_PROVIDER_FAILED`.
 *
 * Providers already avoid secrets in their messages; this is the net under them, for what a
 * driver or server might echo back.
 *
 * @example
 *   const provider = withSanitizer(await loadProvider('postgres'));
 *   await provider.initialize({ admin, target }); // a failure here never shows admin.password
 */
import { SikkerKeyError } from '../protocol/errors.js';
import type { CredentialProvider } from './provider.js';
export declare const REDACTED = "[redacted]";
/** Returns `text` with every value replaced by `[redacted]`, longest first so no fragment survives. */
export declare function redact(text: string, values: Iterable<string>): string;
/** The error as a SikkerKeyError with every value redacted; the original is never kept. */
export declare function sanitizeError(err: unknown, values: Iterable<string>, engine: string): SikkerKeyError;
/**
 * Wraps a provider so every error it throws is sanitized. The values redacted are the provider's
 * own `secretValues()` plus every password this wrapper saw go in, so even a provider that forgot
 * to record one cannot leak it.
 */
export declare function withSanitizer(provider: CredentialProvider): CredentialProvider;

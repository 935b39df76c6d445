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
import type { CredentialProvider, DatabaseSecret } from './provider.js';
import { messageOf, scrubCause } from './provider-errors.js';

export const REDACTED = '[redacted]';

/** Returns `text` with every value replaced by `[redacted]`, longest first so no fragment survives. */
export function redact(text: string, values: Iterable<string>): string {
  const sorted = [...new Set(values)].filter((v) => typeof v === 'string' && v !== '').sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of sorted) {
    for (const form of forms(value)) out = out.split(form).join(REDACTED);
  }
  return out;
}

// Drivers sometimes echo a value escaped or URL-encoded (a connection string, a quoted literal).
function forms(value: string): string[] {
  const variants = new Set([
    value,
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
    value.replace(/'/g, "''"), // SQL standard quoting (pg escapeLiteral)
    value.replace(/'/g, "''").replace(/\\/g, '\\\\'),
    value.replace(/["'\\]/g, (c) => `\\${c}`), // MySQL backslash quoting of quotes and backslashes
  ]);
  return [...variants].filter((v) => v !== '').sort((a, b) => b.length - a.length);
}

/** The error as a SikkerKeyError with every value redacted; the original is never kept. */
export function sanitizeError(err: unknown, values: Iterable<string>, engine: string): SikkerKeyError {
  const list = [...values];
  const clean = (text: string): string => redact(text, list);
  const cause = scrubCause(err instanceof SikkerKeyError ? err.cause : err, clean);
  const out =
    err instanceof SikkerKeyError
      ? new SikkerKeyError(err.code, clean(err.message), { cause, details: redactDetails(err.details, clean) })
      : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', `the ${engine} provider failed: ${clean(messageOf(err))}`, { cause });
  if (err instanceof Error && err.stack !== undefined) out.stack = clean(err.stack).replace(/^[^\n]*/, `${out.name}: ${out.message}`);
  return out;
}

function redactDetails(details: Readonly<Record<string, unknown>> | undefined, clean: (t: string) => string): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return clean(v);
    if (depth > 5 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return walk(details, 0) as Record<string, unknown>;
}

/**
 * Wraps a provider so every error it throws is sanitized. The values redacted are the provider's
 * own `secretValues()` plus every password this wrapper saw go in, so even a provider that forgot
 * to record one cannot leak it.
 */
export function withSanitizer(provider: CredentialProvider): CredentialProvider {
  const seen = new Set<string>();
  const remember = (...values: unknown[]): void => {
    for (const v of values) if (typeof v === 'string' && v !== '') seen.add(v);
  };
  const secretsOf = (secret: DatabaseSecret): string[] => [secret['password'] ?? ''];
  const values = (): string[] => {
    let own: string[] = [];
    try {
      own = provider.secretValues();
    } catch {
      // a provider that cannot list its values still gets the ones this wrapper saw
    }
    return [...own, ...seen];
  };
  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw sanitizeError(err, values(), provider.engine);
    }
  };

  const wrapped: CredentialProvider = {
    engine: provider.engine,
    operations: provider.operations,
    initialize: (req) => {
      remember(...secretsOf(req.admin), ...secretsOf(req.target));
      return guard(() => provider.initialize(req));
    },
    setPassword: (req) => {
      remember(req.password);
      return guard(() => provider.setPassword(req));
    },
    verify: (req) => {
      remember(req.password);
      return guard(() => provider.verify(req));
    },
    preflight: async (req) => {
      const res = await guard(() => provider.preflight(req));
      // problems are operator-facing text too: same rule as error messages
      return { ok: res.ok, problems: res.problems.map((p) => redact(p, values())) };
    },
    close: () => guard(() => provider.close()),
    secretValues: () => values(),
  };
  const { addPassword, removePassword, discardRetained } = provider;
  if (addPassword !== undefined) {
    wrapped.addPassword = (req) => {
      remember(req.password);
      return guard(() => addPassword.call(provider, req));
    };
  }
  if (removePassword !== undefined) {
    wrapped.removePassword = (req) => {
      remember(req.password);
      return guard(() => removePassword.call(provider, req));
    };
  }
  if (discardRetained !== undefined) {
    wrapped.discardRetained = (req) => guard(() => discardRetained.call(provider, req));
  }
  const { createLogin, renewLogin, dropLogin, listLogins } = provider;
  if (createLogin !== undefined) {
    wrapped.createLogin = (req) => {
      remember(req.password);
      return guard(() => createLogin.call(provider, req));
    };
  }
  if (renewLogin !== undefined) wrapped.renewLogin = (req) => guard(() => renewLogin.call(provider, req));
  if (dropLogin !== undefined) wrapped.dropLogin = (req) => guard(() => dropLogin.call(provider, req));
  if (listLogins !== undefined) wrapped.listLogins = (req) => guard(() => listLogins.call(provider, req));
  // synchronous and never throws by contract; a provider that throws anyway counts as not connected
  const { isConnected } = provider;
  if (isConnected !== undefined) {
    wrapped.isConnected = () => {
      try {
        return isConnected.call(provider);
      } catch {
        return false;
      }
    };
  }
  return wrapped;
}

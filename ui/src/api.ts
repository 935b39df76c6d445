/**
 * The dashboard's HTTP client: every call to the vault is signed with the browser's key (see
 * signing.ts), same origin only, no cookies. A refusal becomes an ApiError carrying the vault's
 * stable SK_ERR_… code. There is no route for a secret's value here: operators cannot read one.
 *
 * @example
 *   const { projects } = await api<{ projects: Project[] }>('GET', '/v1/projects');
 */
import { loadIdentity } from './keystore.js';
import { signRequest } from './signing.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Percent-encodes one path segment. */
export const seg = (s: string): string => encodeURIComponent(s);

/** A query string from the defined, non-empty entries (`?a=1&b=2`, or ''). */
export function query(q: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(q).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Signs with a given key (the accept page signs with the key it is registering). */
export async function signedFetch(method: string, target: string, key: { keyId: string; privateKey: CryptoKey }, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const bytes = body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body));
  const headers = await signRequest({ method, authority: location.host, target, ...(bytes ? { body: bytes, contentType: 'application/json' } : {}) }, key);
  return fetch(target, { method, headers, ...(bytes ? { body: bytes } : {}), credentials: 'omit', cache: 'no-store', ...(signal ? { signal } : {}) });
}

/** Reads a response: the JSON body, or an ApiError with the vault's code. */
export async function readJson<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `the vault answered ${res.status}`);
  }
  return body as T;
}

/** A signed call as this browser's operator key. */
export async function api<T>(method: string, target: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const id = await loadIdentity();
  if (!id) throw new ApiError(401, 'SK_UI_NO_KEY', 'this browser holds no key yet: open an invitation link');
  return readJson<T>(await signedFetch(method, target, { keyId: id.keyId, privateKey: id.keyPair.privateKey }, body, signal));
}

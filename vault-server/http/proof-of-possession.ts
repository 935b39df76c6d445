/**
 * Authentication for routes that register a key (`POST /v1/enroll`, `POST /v1/operator-invitations/accept`):
 * the request must be signed by the very key it registers, with a fresh nonce. Such routes are
 * `auth: 'none'` for the ordinary hook (the key is not anyone's yet) and call this instead; they
 * also honour the shared per-address failure budget themselves (see refuseSpentAddress).
 *
 * @example
 *   const keyId = await verifyProofOfPossession(req, { ...deps, now: ctx.now, nonces }, raw);
 */
import type { FastifyRequest } from 'fastify';
import { keyIdFromPublicKey, publicKeyObject } from '../../protocol/keys.js';
import { verifyRequest } from '../../protocol/signing.js';
import type { NonceStore } from '../../protocol/signing.js';
import { rateLimited } from './auth-guard.js';
import type { AuthGuard } from './auth-guard.js';
import type { Ed25519Verifier } from './verify-limiter.js';

export interface ProofDeps {
  /** The vault's concurrency-capped Ed25519 verifier. */
  verify: Ed25519Verifier;
  /** The authorities signatures may cover (the same array the auth hook uses; it may grow at listen). */
  authorities: readonly string[];
  nonces: NonceStore;
  now: () => number;
  /** When the store was restored from a backup (`VaultContext.restoredAt`): signatures made before it are refused. */
  signedAfter?: number | undefined;
}

/** Verifies the request's signature with `raw` (and only it); returns its key id. */
export async function verifyProofOfPossession(req: FastifyRequest, deps: ProofDeps, raw: Uint8Array): Promise<string> {
  const keyId = keyIdFromPublicKey(raw);
  await verifyRequest(
    { method: req.method, target: req.raw.url ?? req.url, headers: req.headers, body: req.rawBody ?? Buffer.alloc(0) },
    {
      authority: pickAuthority(req, deps.authorities), now: deps.now, nonces: deps.nonces, verify: deps.verify,
      ...(deps.signedAfter !== undefined ? { signedAfter: deps.signedAfter } : {}),
      lookupKey: (id) => (id === keyId ? publicKeyObject(raw) : undefined),
    },
  );
  return keyId;
}

/** An onRequest hook: an address that spent its failure budget is refused before any work. */
export function refuseSpentAddress(guard: AuthGuard): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const wait = guard.retryAfter(req.ip);
    if (wait > 0) throw rateLimited(wait);
  };
}

/**
 * The Host header chooses among the configured authorities only (as the auth hook does): an
 * unlisted Host falls back to the first, and the signature then fails unless it covered that.
 */
export function pickAuthority(request: FastifyRequest, authorities: readonly string[]): string {
  const host = request.headers.host?.toLowerCase();
  if (host && authorities.includes(host)) return host;
  return authorities[0] ?? '';
}

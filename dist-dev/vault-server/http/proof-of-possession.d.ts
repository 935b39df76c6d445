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
import type { NonceStore } from '../../protocol/signing.js';
import type { AuthGuard } from './auth-guard.js';
import type { Ed25519Verifier } from './verify-limiter.js';
export interface ProofDeps {
    /** The vault's concurrency-capped Ed25519 verifier. */
    verify: Ed25519Verifier;
    /** The authorities signatures may cover (the same array the auth hook uses; it may grow at listen). */
    authorities: readonly string[];
    nonces: NonceStore;
    now: () => number;
}
/** Verifies the request's signature with `raw` (and only it); returns its key id. */
export declare function verifyProofOfPossession(req: FastifyRequest, deps: ProofDeps, raw: Uint8Array): Promise<string>;
/** An onRequest hook: an address that spent its failure budget is refused before any work. */
export declare function refuseSpentAddress(guard: AuthGuard): (req: FastifyRequest) => Promise<void>;
/**
 * The Host header chooses among the configured authorities only (as the auth hook does): an
 * unlisted Host falls back to the first, and the signature then fails unless it covered that.
 */
export declare function pickAuthority(request: FastifyRequest, authorities: readonly string[]): string;

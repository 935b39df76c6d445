import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import type { AuthGuard } from '../../http/auth-guard.js';
import type { Ed25519Verifier } from '../../http/verify-limiter.js';
export interface OperatorRouteDeps {
    guard: AuthGuard;
    verify: Ed25519Verifier;
    authorities: readonly string[];
}
/**
 * The roster (`/v1/operators…`), invitations (`/v1/operator-invitations…`) and the caller's own
 * key rotation (`/v1/operator-keys/rotate`). Route-level `minRole` is the least role that may
 * call; the finer rules (admins invite viewers only, owners manage) are in operator-roles.ts.
 */
export declare function operatorsRoutes(app: FastifyInstance, ctx: VaultContext, deps: OperatorRouteDeps): void;

import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import type { AuthGuard } from '../../http/auth-guard.js';
import type { Ed25519Verifier } from '../../http/verify-limiter.js';
import type { GeoIpLookup } from '../machines/machine-geoip.js';
export interface EnrollmentRouteDeps {
    /** The failure budgets every authentication shares (enrollment refusals count like 401s). */
    guard: AuthGuard;
    /** The vault's concurrency-capped Ed25519 verifier. */
    verify: Ed25519Verifier;
    /** The authorities signatures may cover (the same array the auth hook uses; it may grow at listen). */
    authorities: readonly string[];
    geoip?: GeoIpLookup;
}
/**
 * Token management for operators (`/v1/enrollment-tokens`, `/v1/bootstrap-tokens`) and the
 * registration route `POST /v1/enroll`, which authenticates on its own: the request must be
 * signed by the very key it registers (proof of possession), with a fresh nonce.
 */
export declare function enrollmentRoutes(app: FastifyInstance, ctx: VaultContext, deps: EnrollmentRouteDeps): void;

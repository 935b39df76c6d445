import type { KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { NonceStore } from '../../protocol/signing.js';
import type { Store } from '../store/open-store.js';
import type { StoreCaches } from '../store/change-counter.js';
import type { MachineConstraintCheck } from '../modules/machines/machine-constraints.js';
export type IdentityKind = 'operator' | 'machine' | 'ai_agent';
export type OperatorRole = 'owner' | 'admin' | 'viewer';
/** Who signed the request, resolved only in the tables the route accepts. */
export interface Caller {
    kind: IdentityKind;
    id: string;
    name: string;
    keyId: string;
    role?: OperatorRole;
    sourceIp: string;
}
/**
 * Per-route authentication, declared in the route's config:
 * `config: { auth: ['machine'] }` — a value-returning route names only machines, so an operator
 * or AI-agent key id is simply not found (DESIGN §2: structural, not a policy check).
 */
export interface RouteAuth {
    auth: readonly IdentityKind[] | 'none';
    /** Operators only: the least role that may call (viewer < admin < owner). */
    minRole?: OperatorRole;
}
declare module 'fastify' {
    interface FastifyRequest {
        caller?: Caller;
        rawBody?: Buffer;
        /** The group-commit batch that holds this request's nonce: its answer waits until that batch is durable. */
        durableMark?: number;
    }
    interface FastifyContextConfig {
        auth?: RouteAuth['auth'];
        minRole?: OperatorRole;
    }
}
export type FailureStage = 'precheck' | 'signature' | 'replay' | 'limited' | 'busy';
export interface AuthenticatorOptions {
    store: Store;
    nonces: NonceStore;
    /** The authorities signatures may cover (host:port of --listen, or of each --public-url). */
    authorities: readonly string[];
    now?: () => number;
    /** Verify on libuv's thread pool (FINDINGS.md: ~2× the synchronous rate on 2 cores). */
    asyncVerify?: boolean;
    /**
     * Performs each Ed25519 verification (the vault passes its concurrency-capped verifier); when
     * absent, `asyncVerify` chooses between the thread pool and the main thread.
     */
    verify?: (key: KeyObject, message: Uint8Array, signature: Uint8Array) => Promise<boolean>;
    /**
     * Seconds until this request's source address may again fail without cryptography (0: it may
     * now). While it is spent, such failures are answered 429 instead of 401.
     */
    addressRetryAfter?: (request: FastifyRequest) => number;
    /**
     * Called with each 401 (and each 429 it turned into), for rate limiting and metrics. `stage`:
     * `precheck` — detectable without cryptography (missing or malformed headers, stale, digest
     * mismatch, unknown key id); `signature` — the Ed25519 verification itself failed; `replay` —
     * a valid signature whose nonce was already used; `limited` — a precheck failure answered 429;
     * `busy` — the verify-concurrency cap refused the verification (503 SK_ERR_VERIFY_BUSY).
     */
    onFailure?: (request: FastifyRequest, err: SikkerKeyError, stage: FailureStage) => void;
    /** Called once per Ed25519 verification about to be performed (every cheap check passed and a key was found). */
    onVerify?: () => void;
    /** Called with the seconds authentication took, when it succeeded. */
    onAuthenticated?: (seconds: number) => void;
    /** Machines' guardrails (expiry, IP, country, time window, unknown constraints); a GeoIP-less check by default. */
    checkMachine?: MachineConstraintCheck;
    /**
     * The vault's change-counter-checked caches: identities are then looked up in memory, after one
     * read of the counter per request, so a disabled or removed key is refused on the very next request.
     */
    caches?: StoreCaches;
    /** The group committer the nonce store claims through (its batch number is the request's durableMark). */
    commits?: {
        committedSeq(): number;
    };
}
/**
 * Installs the signed-request check as a preValidation hook: by then the raw body bytes are
 * buffered (our only content parser keeps them raw) and the digest can be recomputed over them
 * before any JSON is parsed. JSON parsing happens here, after the signature holds.
 */
export declare function installAuthentication(app: FastifyInstance, opts: AuthenticatorOptions): {
    forgetKey(keyId: string): void;
};

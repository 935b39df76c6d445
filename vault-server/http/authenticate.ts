import type { KeyObject } from 'node:crypto';
import { BlockList } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import { publicKeyObject } from '../../protocol/keys.js';
import { ed25519Verify, ed25519VerifyAsync, verifyRequest } from '../../protocol/signing.js';
import { matchesCidr, parseCidrList, rateLimited } from './auth-guard.js';
import { scopeList } from './ai-scopes.js';
import type { AiScope } from './ai-scopes.js';
import { pickAuthority } from './proof-of-possession.js';
import type { NonceStore } from '../../protocol/signing.js';
import type { DeferredNonce } from '../store/nonce-store.js';
import type { Store } from '../store/open-store.js';
import type { StoreCaches } from '../store/change-counter.js';
import { createMachineConstraintCheck } from '../modules/machines/machine-constraints.js';
import type { MachineConstraintCheck, MachineConstraintRow } from '../modules/machines/machine-constraints.js';

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
  /**
   * The request's nonce when its route claims it in the request's own write job
   * (`config.nonceInJob`): pass it to that job (`writeTx(ctx, fn, { nonce })`).
   */
  nonce?: DeferredNonce;
}

/** The route's AI agent scope: one, or several any one of which will do (`scopeList`). */
export type RouteScope = AiScope | readonly AiScope[];

/**
 * Per-route authentication, declared in the route's config:
 * `config: { auth: ['machine'] }` — a value-returning route names only machines, so an operator
 * or AI-agent key id is simply not found (DESIGN §2: structural, not a policy check).
 */
export interface RouteAuth {
  auth: readonly IdentityKind[] | 'none';
  /** Operators only: the least role that may call (viewer < admin < owner). */
  minRole?: OperatorRole;
  /** AI agents only: the scope the agent must hold (http/ai-scopes.ts); a route listing `ai_agent` without one refuses every agent. */
  scope?: RouteScope;
  /**
   * Whether the route answers with a stored secret value (read, batch read, watch, `?version=`,
   * the agent's rotation claim). Every route declares it; such a route lists only machines, and a
   * test walks the route table to hold both.
   */
  returnsValues: boolean;
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
    scope?: RouteScope;
    /** Required on every route (test/vault-server/ai-agents-routes.test.ts walks the route table). */
    returnsValues?: boolean;
    /** `false`: not API (the dashboard's static files); left out of GET /v1/openapi.json (http/openapi.ts). */
    openApi?: boolean;
    /**
     * Whether this request's nonce is claimed in the handler's first write job (one batch per
     * read instead of two) rather than in a job of its own during authentication. The handler
     * must pass `caller.nonce` to that job before anything outside the vault sees an effect; an
     * answer given without it claims the nonce first (`settleDeferredNonce`).
     */
    nonceInJob?: (request: FastifyRequest) => boolean;
  }
}

const ROLE_RANK: Record<OperatorRole, number> = { viewer: 0, admin: 1, owner: 2 };

interface IdentityRow {
  kind: IdentityKind;
  id: string;
  name: string;
  publicKey: Buffer;
  status: string;
  role?: OperatorRole;
  expiresAt: number | null;
  /** Machines only: the guardrail columns the constraint check reads. */
  machine?: MachineConstraintRow;
  /** AI agents only: their scopes, source allowlist and request rate. */
  aiAgent?: AiAgentLimits;
}

interface AiAgentLimits {
  scopes: ReadonlySet<string>;
  allow: BlockList | undefined;
  ratePerMinute: number | null;
}

function aiAgentLimits(row: { scopes: string; ip_allowlist: string | null; rate_per_minute: number | null }): AiAgentLimits {
  const cidrs = row.ip_allowlist ? (JSON.parse(row.ip_allowlist) as string[]) : [];
  return {
    scopes: new Set(JSON.parse(row.scopes) as string[]),
    // Validated when stored; a list that no longer parses refuses every address (fail closed).
    allow: cidrs.length > 0 ? safeCidrList(cidrs) : undefined,
    ratePerMinute: row.rate_per_minute,
  };
}

function safeCidrList(cidrs: readonly string[]): BlockList {
  try {
    return parseCidrList(cidrs, 'the AI agent\'s --allow-cidr');
  } catch {
    return new BlockList();
  }
}

/** Looks a key id up in exactly the tables named, in that order; never anywhere else. */
async function findIdentity(store: Store, kinds: readonly IdentityKind[], keyId: string): Promise<IdentityRow | undefined> {
  for (const kind of kinds) {
    if (kind === 'machine') {
      const row = await store.db.selectFrom('machines')
        .select(['id', 'name', 'public_key', 'status', 'expires_at', 'ip_allowlist', 'country_allowlist', 'time_window', 'constraints'])
        .where('key_id', '=', keyId).executeTakeFirst();
      if (row) return { kind, id: row.id, name: row.name, publicKey: row.public_key, status: row.status, expiresAt: row.expires_at, machine: row };
    } else if (kind === 'operator') {
      const row = await store.db.selectFrom('operator_keys').innerJoin('operators', 'operators.id', 'operator_keys.operator_id')
        .select(['operators.id as id', 'operators.name as name', 'operator_keys.public_key as public_key', 'operators.status as status',
          'operators.role as role', 'operator_keys.revoked_at as revoked_at'])
        .where('operator_keys.key_id', '=', keyId).executeTakeFirst();
      if (row) {
        return { kind, id: row.id, name: row.name, publicKey: row.public_key, status: row.revoked_at === null ? row.status : 'key_revoked', role: row.role, expiresAt: null };
      }
    } else {
      const row = await store.db.selectFrom('ai_agents').select(['id', 'name', 'public_key', 'status', 'scopes', 'ip_allowlist', 'rate_per_minute'])
        .where('key_id', '=', keyId).executeTakeFirst();
      if (row) return { kind, id: row.id, name: row.name, publicKey: row.public_key, status: row.status, expiresAt: null, aiAgent: aiAgentLimits(row) };
    }
  }
  return undefined;
}

export type FailureStage = 'precheck' | 'signature' | 'replay' | 'limited' | 'busy';

export interface AuthenticatorOptions {
  store: Store;
  nonces: NonceStore & { sweepIfDue?(): void };
  /**
   * Honour routes' `config.nonceInJob`: their nonce is claimed in the handler's own write job
   * (the caller's `nonce`), not in a job of its own here. Needs an onSend hook calling
   * `settleDeferredNonce` (app.ts), so that no answer leaves with its nonce unclaimed.
   */
  deferNonces?: boolean;
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
  commits?: { committedSeq(): number };
  /** Requests per minute an AI agent's key may make when the agent sets none (default 600). */
  aiAgentRatePerMinute?: number;
  /**
   * When the store was restored from a backup (ms; `VaultContext.restoredAt`): signatures made
   * before it are refused, since the nonces used after the backup are not in the store (protocol
   * `signedAfter`).
   */
  signedAfter?: number;
}

export const DEFAULT_AI_AGENT_RATE_PER_MINUTE = 600;

/**
 * Verified requests per AI agent key, in fixed one-minute windows (per vault process). Only
 * requests whose signature held are counted, so nobody without the key can spend its budget.
 */
class KeyRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number) {}

  /** Seconds to wait before the key may call again, or 0 (and the request is counted). */
  take(keyId: string, perMinute: number): number {
    const now = this.now();
    let w = this.windows.get(keyId);
    if (!w || now - w.start >= 60_000) {
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: now, count: 0 };
      this.windows.set(keyId, w);
    }
    if (w.count >= perMinute) return Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
    w.count += 1;
    return 0;
  }
}

/**
 * Installs the signed-request check as a preValidation hook: by then the raw body bytes are
 * buffered (our only content parser keeps them raw) and the digest can be recomputed over them
 * before any JSON is parsed. JSON parsing happens here, after the signature holds.
 */
export function installAuthentication(app: FastifyInstance, opts: AuthenticatorOptions): {
  forgetKey(keyId: string): void;
  /**
   * For an onSend hook: a request whose nonce waited for a write job that never took it (an
   * answer given before or without one) claims it now. Resolves with the error to answer instead
   * (the nonce was used: SK_ERR_SIGNATURE_REPLAYED; or the store failed), or undefined once the
   * claim committed (`request.durableMark` then says which batch the answer waits for).
   */
  settleDeferredNonce(request: FastifyRequest): Promise<SikkerKeyError | undefined>;
} {
  // A key id is the hash of its public key, so the KeyObject cached for it never goes stale;
  // the identity's status is still read on every request.
  const keyCache = new Map<string, KeyObject>();
  const identities = opts.caches?.map<string, IdentityRow | null>();
  const lookupIdentity = async (kinds: readonly IdentityKind[], keyId: string): Promise<IdentityRow | undefined> => {
    if (!opts.caches || !identities) return findIdentity(opts.store, kinds, keyId);
    const view = await opts.caches.view(opts.store.db);
    return (await view.get(identities, `${kinds.join(',')}\u0000${keyId}`, async () => (await findIdentity(opts.store, kinds, keyId)) ?? null)) ?? undefined;
  };
  const now = opts.now ?? Date.now;
  const checkMachine = opts.checkMachine ?? createMachineConstraintCheck({ now });
  const aiRates = new KeyRateLimiter(now);
  const defaultAiRate = opts.aiAgentRatePerMinute ?? DEFAULT_AI_AGENT_RATE_PER_MINUTE;

  const keyObjectFor = (keyId: string, raw: Buffer): KeyObject => {
    let key = keyCache.get(keyId);
    if (!key) {
      key = publicKeyObject(raw);
      if (keyCache.size > 10_000) keyCache.clear();
      keyCache.set(keyId, key);
    }
    return key;
  };

  const replayed = (): SikkerKeyError => new SikkerKeyError('SK_ERR_SIGNATURE_REPLAYED', 'this nonce was already used with this key');
  /** Claims a deferred nonce on its own (as authentication does for every other route). */
  const claimLate = async (request: FastifyRequest, nonce: DeferredNonce): Promise<SikkerKeyError | undefined> => {
    nonce.taken = true;
    let claimed: boolean;
    try {
      claimed = await opts.nonces.claim(nonce.keyId, nonce.nonceHash, nonce.expiresAtUnix);
    } catch (err) {
      return err instanceof SikkerKeyError ? err : new SikkerKeyError('SK_ERR_STORE', 'the nonce store failed', { cause: err });
    }
    if (opts.commits) request.durableMark = opts.commits.committedSeq();
    return claimed ? undefined : replayed();
  };

  app.addHook('preValidation', async (request) => {
    const routeAuth = request.routeOptions.config.auth;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    request.rawBody = body;
    if (routeAuth === undefined || routeAuth === 'none') {
      request.body = parseJsonBody(request, body);
      return;
    }
    const started = process.hrtime.bigint();

    let identity: IdentityRow | undefined;
    // Set once every check that needs no cryptography has passed and the key id named a key.
    let reachedCrypto = false;
    const verifyOnce = opts.verify ?? (opts.asyncVerify ? ed25519VerifyAsync : ed25519Verify);
    // Routes that claim the nonce in their own write job get it recorded here, not claimed.
    let deferred: DeferredNonce | undefined;
    const nonces: NonceStore = opts.deferNonces && request.routeOptions.config.nonceInJob?.(request) === true
      ? { claim: async (keyId, nonceHash, expiresAtUnix) => { deferred = { keyId, nonceHash, expiresAtUnix, taken: false }; return true; } }
      : opts.nonces;
    try {
      const verified = await verifyRequest(
        { method: request.method, target: request.raw.url ?? request.url, headers: request.headers, body },
        {
          authority: pickAuthority(request, opts.authorities),
          now,
          nonces,
          ...(opts.signedAfter !== undefined ? { signedAfter: opts.signedAfter } : {}),
          verify: (key, message, signature) => {
            reachedCrypto = true;
            opts.onVerify?.();
            return verifyOnce(key, message, signature);
          },
          lookupKey: async (id) => {
            identity = await lookupIdentity(routeAuth, id);
            return identity ? keyObjectFor(id, identity.publicKey) : undefined;
          },
        },
      );
      if (opts.commits && !deferred) request.durableMark = opts.commits.committedSeq();
      opts.onAuthenticated?.(Number(process.hrtime.bigint() - started) / 1e9);
      if (!identity) throw new SikkerKeyError('SK_ERR_SIGNATURE_UNKNOWN_KEY');
      checkStatus(identity, now());
      if (identity.machine) await checkMachine(identity.machine, request.ip);
      if (identity.aiAgent) checkAiAgent(identity, identity.aiAgent, request, verified.keyId, (keyId, rate) => aiRates.take(keyId, rate ?? defaultAiRate));
      const minRole = request.routeOptions.config.minRole;
      if (minRole && identity.kind === 'operator' && ROLE_RANK[identity.role ?? 'viewer'] < ROLE_RANK[minRole]) {
        throw new SikkerKeyError('SK_ERR_FORBIDDEN', `this needs the operator role ${minRole} or higher`);
      }
      if (deferred) {
        deferred.onReplay = () => opts.onFailure?.(request, replayed(), 'replay');
        opts.nonces.sweepIfDue?.();
      }
      request.caller = {
        kind: identity.kind, id: identity.id, name: identity.name, keyId: verified.keyId,
        sourceIp: request.ip, ...(identity.role ? { role: identity.role } : {}), ...(deferred ? { nonce: deferred } : {}),
      };
    } catch (caught) {
      // Refused after the signature held: the nonce is claimed before the refusal is answered,
      // and a used one is refused as a replay, exactly as when authentication claims it.
      const err = deferred && !deferred.taken ? (await claimLate(request, deferred)) ?? caught : caught;
      const skErr = err instanceof SikkerKeyError ? err : new SikkerKeyError('SK_ERR_INTERNAL', 'authentication failed unexpectedly', { cause: err });
      if (skErr.code === 'SK_ERR_VERIFY_BUSY') opts.onFailure?.(request, skErr, 'busy');
      if (skErr.statusCode !== 401) throw skErr;
      if (!reachedCrypto) {
        // Nothing was verified: this address may be refused such requests outright.
        const wait = opts.addressRetryAfter?.(request) ?? 0;
        if (wait > 0) {
          const limited = rateLimited(wait);
          opts.onFailure?.(request, limited, 'limited');
          throw limited;
        }
        opts.onFailure?.(request, skErr, 'precheck');
      } else {
        opts.onFailure?.(request, skErr, skErr.code === 'SK_ERR_SIGNATURE_REPLAYED' ? 'replay' : 'signature');
      }
      throw skErr;
    }
    request.body = parseJsonBody(request, body);
  });

  return {
    forgetKey: (keyId) => keyCache.delete(keyId),
    settleDeferredNonce: async (request) => {
      const nonce = request.caller?.nonce;
      if (!nonce || nonce.taken) return undefined;
      const refused = await claimLate(request, nonce);
      if (refused?.code === 'SK_ERR_SIGNATURE_REPLAYED') opts.onFailure?.(request, refused, 'replay');
      return refused;
    },
  };
}

/**
 * An AI agent, once its signature held and it is active: its own source allowlist, its key's
 * request rate, then the route's scope (any one of the listed scopes will do). A route that lists
 * `ai_agent` but names no scope refuses every agent: fail closed.
 */
function checkAiAgent(identity: IdentityRow, agent: AiAgentLimits, request: FastifyRequest, keyId: string, take: (keyId: string, perMinute: number | null) => number): void {
  if (agent.allow && !matchesCidr(agent.allow, request.ip)) {
    throw new SikkerKeyError('SK_ERR_IP_NOT_ALLOWED', `AI agent ${identity.name} may not call from this address`);
  }
  const wait = take(keyId, agent.ratePerMinute);
  if (wait > 0) {
    throw new SikkerKeyError('SK_ERR_AI_AGENT_RATE_LIMITED', `AI agent ${identity.name} is over its request rate; slow down`, { details: { retryAfter: wait } });
  }
  const needed = scopeList(request.routeOptions.config.scope);
  if (!needed.some((s) => agent.scopes.has(s))) {
    throw new SikkerKeyError('SK_ERR_SCOPE_MISSING', needed.length === 0
      ? 'this route names no AI agent scope: AI agents may not call it'
      : `AI agent ${identity.name} lacks the scope ${needed.join(' or ')}`, { details: { scopes: [...needed] } });
  }
}

function checkStatus(identity: IdentityRow, nowMs: number): void {
  if (identity.status === 'active' && (identity.expiresAt === null || identity.expiresAt > nowMs)) return;
  if (identity.kind === 'ai_agent') {
    if (identity.status === 'revoked') throw new SikkerKeyError('SK_ERR_AI_AGENT_REVOKED', `AI agent ${identity.name} was revoked`);
    throw new SikkerKeyError('SK_ERR_AI_AGENT_DISABLED', `AI agent ${identity.name} is disabled (sikkerkey ai-agent enable ${identity.name})`);
  }
  if (identity.status === 'pending_approval') {
    throw new SikkerKeyError('SK_ERR_MACHINE_PENDING_APPROVAL', 'this machine waits for an operator\'s approval (sikkerkey machine approve NAME)');
  }
  if (identity.status === 'expired' || (identity.expiresAt !== null && identity.expiresAt <= nowMs)) {
    throw new SikkerKeyError('SK_ERR_MACHINE_EXPIRED', 'this machine\'s lifetime has ended');
  }
  if (identity.kind === 'machine') throw new SikkerKeyError('SK_ERR_MACHINE_DISABLED', 'this machine is disabled');
  if (identity.status === 'key_revoked') throw new SikkerKeyError('SK_ERR_KEY_REVOKED', `this key of ${identity.kind} ${identity.name} was revoked`);
  throw new SikkerKeyError('SK_ERR_FORBIDDEN', `this ${identity.kind} is ${identity.status}`);
}

function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new SikkerKeyError('SK_ERR_BAD_REQUEST', 'request bodies must be application/json');
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new SikkerKeyError('SK_ERR_BAD_REQUEST', 'the body is not valid JSON');
  }
}

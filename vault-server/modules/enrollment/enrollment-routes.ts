import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { parsePublicKey } from '../../../protocol/keys.js';
import { peekKeyId } from '../../../protocol/signing.js';
import { parseDuration } from '../../../protocol/duration.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { safeInteger } from '../../http/validation.js';
import type { AuthGuard } from '../../http/auth-guard.js';
import { refuseSpentAddress, verifyProofOfPossession } from '../../http/proof-of-possession.js';
import type { Ed25519Verifier } from '../../http/verify-limiter.js';
import { createNonceStore } from '../../store/nonce-store.js';
import type { GeoIpLookup } from '../machines/machine-geoip.js';
import { createToken, listTokens, revokeToken } from './enrollment-tokens.js';
import type { CreateTokenRequest, TokenKind } from './enrollment-tokens.js';
import { auditRefusedEnrollment, enrollMachine } from './enrollment-service.js';
import type { EnrollRefusal } from './enrollment-service.js';

export interface EnrollmentRouteDeps {
  /** The failure budgets every authentication shares (enrollment refusals count like 401s). */
  guard: AuthGuard;
  /** The vault's concurrency-capped Ed25519 verifier. */
  verify: Ed25519Verifier;
  /** The authorities signatures may cover (the same array the auth hook uses; it may grow at listen). */
  authorities: readonly string[];
  geoip?: GeoIpLookup;
}

const LABEL = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/=-]{0,63}$' } as const;
const NAME = { type: 'string', pattern: NAME_PATTERN } as const;
const DURATION = { type: 'string', minLength: 2, maxLength: 16 } as const;
const STRINGS = (maxItems: number, maxLength: number) => ({ type: 'array', minItems: 1, maxItems, items: { type: 'string', minLength: 1, maxLength } }) as const;
const COMMON = {
  project: NAME,
  secrets: { type: 'array', maxItems: 64, items: NAME },
  labels: { type: 'array', maxItems: 32, items: LABEL },
  name: { type: 'string', minLength: 1, maxLength: 128 },
  expiresIn: DURATION,
  nameTemplate: { type: 'string', minLength: 1, maxLength: 100 },
} as const;

interface TokenBody {
  project: string; secrets?: string[]; labels?: string[]; name?: string; expiresIn?: string; nameTemplate?: string;
  machineLifetime?: string; maxUses?: number; hostnameRegex?: string; sourceCidrs?: string[];
  lifetime?: string; ipAllowlist?: string[]; countryAllowlist?: string[]; timeWindow?: string; noApproval?: boolean;
}

function toRequest(b: TokenBody): CreateTokenRequest {
  const d = (text: string | undefined, what: string): number | undefined => (text === undefined ? undefined : parseDuration(text, what, 'SK_ERR_VALIDATION'));
  const r: CreateTokenRequest = { project: b.project };
  const put = <K extends keyof CreateTokenRequest>(k: K, v: CreateTokenRequest[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  put('secrets', b.secrets); put('labels', b.labels); put('name', b.name); put('expiresInMs', d(b.expiresIn, 'expiresIn'));
  put('nameTemplate', b.nameTemplate); put('machineLifetimeMs', d(b.machineLifetime, 'machineLifetime')); put('maxUses', b.maxUses);
  put('hostnameRegex', b.hostnameRegex); put('sourceCidrs', b.sourceCidrs); put('lifetimeMs', d(b.lifetime, 'lifetime'));
  put('ipAllowlist', b.ipAllowlist); put('countryAllowlist', b.countryAllowlist); put('timeWindow', b.timeWindow); put('noApproval', b.noApproval);
  return r;
}

/**
 * Token management for operators (`/v1/enrollment-tokens`, `/v1/bootstrap-tokens`) and the
 * registration route `POST /v1/enroll`, which authenticates on its own: the request must be
 * signed by the very key it registers (proof of possession), with a fresh nonce.
 */
export function enrollmentRoutes(app: FastifyInstance, ctx: VaultContext, deps: EnrollmentRouteDeps): void {
  const nonces = createNonceStore(ctx.store, { commits: ctx.commits });

  const tokenRoutes = (kind: TokenKind, base: string, properties: Record<string, unknown>, required: string[]): void => {
    app.post<{ Body: TokenBody }>(base, {
      // Machines from a token an AI agent created always wait for an operator's approval.
      config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'enroll-tokens:write', returnsValues: false },
      schema: { body: { type: 'object', additionalProperties: false, required: ['project', ...required], properties: { ...COMMON, ...properties } } },
    }, async (req, reply) => reply.code(201).send(await createToken(ctx, callerOf(req), kind, toRequest(req.body))));

    app.get(base, { config: { auth: ['operator', 'ai_agent'], scope: 'enroll-tokens:read', returnsValues: false } }, async () => ({ tokens: await listTokens(ctx, kind) }));

    app.post<{ Params: { id: string } }>(`${base}/:id/revoke`, {
      config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'enroll-tokens:write', returnsValues: false },
      schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } },
    }, async (req) => ({ token: await revokeToken(ctx, callerOf(req), kind, req.params.id) }));
  };

  tokenRoutes('enrollment', '/v1/enrollment-tokens', {
    machineLifetime: DURATION,
    maxUses: safeInteger({ minimum: 1, maximum: 1_000_000 }),
    hostnameRegex: { type: 'string', minLength: 1, maxLength: 256 },
    sourceCidrs: STRINGS(64, 64),
  }, ['machineLifetime']);

  tokenRoutes('bootstrap', '/v1/bootstrap-tokens', {
    lifetime: DURATION,
    ipAllowlist: STRINGS(64, 64),
    countryAllowlist: STRINGS(250, 8),
    timeWindow: { type: 'string', minLength: 1, maxLength: 200 },
    noApproval: { type: 'boolean' },
  }, ['lifetime']);

  app.post<{ Body: { token: string; publicKey: string; hostname: string } }>('/v1/enroll', {
    config: { auth: 'none', returnsValues: false },
    // The route authenticates itself, so it also honours the shared failure budgets itself.
    onRequest: refuseSpentAddress(deps.guard),
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['token', 'publicKey', 'hostname'],
        properties: {
          token: { type: 'string', minLength: 1, maxLength: 128 },
          publicKey: { type: 'string', minLength: 40, maxLength: 400 },
          // RFC 1123 host names (underscores tolerated: container runtimes produce them), at most
          // 253 characters (DNS); the length is its own keyword so a long name gets a clear message.
          hostname: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
        },
      },
    },
  }, async (req, reply) => {
    const sourceIp = req.ip;
    const claimedKeyId = peekKeyId(req.headers);
    const refusal: EnrollRefusal = { tokenId: null, kind: null, reason: 'signature' };
    try {
      const raw = parsePublicKey(req.body.publicKey);
      // Proof of possession: the only key that may sign a registration is the one it registers.
      const keyId = await verifyProofOfPossession(req, { verify: deps.verify, authorities: deps.authorities, nonces, now: ctx.now, signedAfter: ctx.restoredAt }, raw);
      const result = await enrollMachine(ctx, { ...(deps.geoip ? { geoip: deps.geoip } : {}) }, {
        token: req.body.token, publicKey: raw, keyId, hostname: req.body.hostname, sourceIp,
      }, refusal);
      return await reply.code(201).send(result);
    } catch (err) {
      const skErr = err instanceof SikkerKeyError ? err : undefined;
      if (skErr && (skErr.statusCode === 401 || skErr.statusCode === 403 || skErr.code === 'SK_ERR_CONFLICT' || skErr.code === 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED')) {
        if (skErr.statusCode === 401 || skErr.statusCode === 403) deps.guard.recordFailure(sourceIp);
        if (refusal.reason === 'signature') refusal.reason = `signature: ${skErr.code}`;
        await auditRefusedEnrollment(ctx, { refusal, code: skErr.code, keyId: claimedKeyId, hostname: req.body.hostname, sourceIp });
      }
      throw err;
    }
  });
}

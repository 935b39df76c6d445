import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { parsePublicKey } from '../../../protocol/keys.js';
import { parseDuration } from '../../../protocol/duration.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN, auditDenied } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import type { OperatorRole } from '../../http/authenticate.js';
import type { AuthGuard } from '../../http/auth-guard.js';
import { pickAuthority, refuseSpentAddress, verifyProofOfPossession } from '../../http/proof-of-possession.js';
import type { Ed25519Verifier } from '../../http/verify-limiter.js';
import { createNonceStore } from '../../store/nonce-store.js';
import { acceptInvitation, createInvitation, listInvitations, revokeInvitation } from './operator-invitations.js';
import {
  addOperator, listOperatorKeys, listOperators, removeOperator, revokeOperatorKey, rotateOperatorKey,
  setOperatorRole, setOperatorStatus,
} from './operators-service.js';
import { ROLES } from './operator-roles.js';

export interface OperatorRouteDeps {
  guard: AuthGuard;
  verify: Ed25519Verifier;
  authorities: readonly string[];
}

const NAME = { type: 'string', pattern: NAME_PATTERN } as const;
const ROLE = { type: 'string', enum: ROLES } as const;
const LABEL = { type: 'string', minLength: 1, maxLength: 64 } as const;
const PUBLIC_KEY = { type: 'string', minLength: 40, maxLength: 400 } as const;
const NAME_PARAMS = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 128 } } } as const;

/**
 * The roster (`/v1/operators…`), invitations (`/v1/operator-invitations…`) and the caller's own
 * key rotation (`/v1/operator-keys/rotate`). Route-level `minRole` is the least role that may
 * call; the finer rules (admins invite viewers only, owners manage) are in operator-roles.ts.
 */
export function operatorsRoutes(app: FastifyInstance, ctx: VaultContext, deps: OperatorRouteDeps): void {
  const nonces = createNonceStore(ctx.store, { commits: ctx.commits });

  app.get('/v1/operators', { config: { auth: ['operator'], returnsValues: false } }, async () => ({ operators: await listOperators(ctx) }));

  app.post<{ Body: { name: string; publicKey: string; role: OperatorRole; label?: string } }>('/v1/operators', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { body: { type: 'object', additionalProperties: false, required: ['name', 'publicKey', 'role'], properties: { name: NAME, publicKey: PUBLIC_KEY, role: ROLE, label: LABEL } } },
  }, async (req, reply) => reply.code(201).send(await addOperator(ctx, callerOf(req), req.body)));

  app.post<{ Params: { name: string }; Body: { role: OperatorRole } }>('/v1/operators/:name/role', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { params: NAME_PARAMS, body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: ROLE } } },
  }, async (req) => ({ operator: await setOperatorRole(ctx, callerOf(req), req.params.name, req.body.role) }));

  for (const [verb, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    app.post<{ Params: { name: string } }>(`/v1/operators/:name/${verb}`, {
      config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: NAME_PARAMS },
    }, async (req) => ({ operator: await setOperatorStatus(ctx, callerOf(req), req.params.name, status) }));
  }

  app.delete<{ Params: { name: string } }>('/v1/operators/:name', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: NAME_PARAMS },
  }, async (req) => removeOperator(ctx, callerOf(req), req.params.name));

  app.get<{ Params: { name: string } }>('/v1/operators/:name/keys', {
    config: { auth: ['operator'], returnsValues: false }, schema: { params: NAME_PARAMS },
  }, async (req) => listOperatorKeys(ctx, callerOf(req), req.params.name));

  app.post<{ Params: { name: string; keyId: string } }>('/v1/operators/:name/keys/:keyId/revoke', {
    config: { auth: ['operator'], returnsValues: false },
    schema: { params: { type: 'object', required: ['name', 'keyId'], properties: { name: { type: 'string', minLength: 1, maxLength: 128 }, keyId: { type: 'string', minLength: 1, maxLength: 128 } } } },
  }, async (req) => ({ key: await revokeOperatorKey(ctx, callerOf(req), req.params.name, req.params.keyId) }));

  app.post<{ Body: { publicKey: string; proof: string; label?: string } }>('/v1/operator-keys/rotate', {
    config: { auth: ['operator'], returnsValues: false },
    schema: { body: { type: 'object', additionalProperties: false, required: ['publicKey', 'proof'], properties: { publicKey: PUBLIC_KEY, proof: { type: 'string', minLength: 80, maxLength: 100 }, label: LABEL } } },
  }, async (req) => rotateOperatorKey(ctx, callerOf(req), req.body));

  app.post<{ Body: { name: string; role?: OperatorRole; existing?: boolean; expiresIn?: string } }>('/v1/operator-invitations', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['name'],
        properties: { name: NAME, role: ROLE, existing: { type: 'boolean' }, expiresIn: { type: 'string', minLength: 2, maxLength: 16 } },
      },
    },
  }, async (req, reply) => {
    const b = req.body;
    const expiresInMs = b.expiresIn === undefined ? undefined : parseDuration(b.expiresIn, 'expiresIn', 'SK_ERR_VALIDATION');
    return reply.code(201).send(await createInvitation(ctx, callerOf(req), {
      name: b.name, ...(b.role ? { role: b.role } : {}), ...(b.existing ? { existing: true } : {}), ...(expiresInMs !== undefined ? { expiresInMs } : {}),
    }, baseUrlOf(req, deps.authorities)));
  });

  app.get('/v1/operator-invitations', { config: { auth: ['operator'], minRole: 'admin', returnsValues: false } }, async () => ({ invitations: await listInvitations(ctx) }));

  app.post<{ Params: { id: string } }>('/v1/operator-invitations/:id/revoke', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } },
  }, async (req) => ({ invitation: await revokeInvitation(ctx, callerOf(req), req.params.id) }));

  // Authenticates itself: signed by the key it registers (proof of possession), like /v1/enroll.
  app.post<{ Body: { token: string; publicKey: string; label?: string } }>('/v1/operator-invitations/accept', {
    config: { auth: 'none', returnsValues: false },
    onRequest: refuseSpentAddress(deps.guard),
    schema: { body: { type: 'object', additionalProperties: false, required: ['token', 'publicKey'], properties: { token: { type: 'string', minLength: 1, maxLength: 128 }, publicKey: PUBLIC_KEY, label: LABEL } } },
  }, async (req, reply) => {
    try {
      const raw = parsePublicKey(req.body.publicKey);
      await verifyProofOfPossession(req, { verify: deps.verify, authorities: deps.authorities, nonces, now: ctx.now, signedAfter: ctx.restoredAt }, raw);
      const result = await acceptInvitation(ctx, { token: req.body.token, publicKey: raw, sourceIp: req.ip, ...(req.body.label ? { label: req.body.label } : {}) });
      return await reply.code(201).send(result);
    } catch (err) {
      // A wrong signature or a bad token spends the address's failure budget, as a 401 elsewhere does.
      if (err instanceof SikkerKeyError && err.statusCode === 401) deps.guard.recordFailure(req.ip);
      if (err instanceof SikkerKeyError && (err.code === 'SK_ERR_INVITATION_INVALID' || err.code === 'SK_ERR_CONFLICT')) {
        await auditDenied(ctx, undefined, { action: 'operator.accept', target: 'invitation', details: { code: err.code, sourceIp: req.ip } });
      }
      throw err;
    }
  });
}

/**
 * The vault's URL for the invitation link: the configured authority the caller's signature
 * covered (pickAuthority), never the raw Host header — a Host outside the configured list, or one
 * a proxy rewrote, must not end up in a link an admin hands on.
 */
function baseUrlOf(req: FastifyRequest, authorities: readonly string[]): string {
  return `${req.protocol}://${pickAuthority(req, authorities)}`;
}

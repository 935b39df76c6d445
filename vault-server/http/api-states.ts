import type { LeaseJobKind, LeaseState, RotationKind, RotationState, Strategy } from '../../protocol/api-types.js';
import type { AiAgentStatus, IdentityStatus, MachineStatus, OperatorRole, SecretKind, SecretVersionState } from '../store/database.js';
import type { ActorKind, Outcome } from '../modules/audit/audit-chain.js';
import type { TokenState } from '../modules/enrollment/enrollment-tokens.js';
import type { Readiness } from '../modules/health/health-service.js';
import type { PausedReason } from '../modules/rotations/policy-agents.js';
import { ALL_AI_SCOPES } from './ai-scopes.js';

/** One enumeration the API answers with: the JSON field(s) that carry it and every value. */
export interface ApiEnum {
  /** The name used as an OpenAPI component schema (`#/components/schemas/<name>`). */
  name: string;
  /** Where the value appears, in a few words. */
  where: string;
  values: readonly string[];
}

/**
 * Every value of the union `T`, checked by the compiler both ways: a value outside `T` and a
 * member of `T` left out are compile errors, so a new state cannot be added to a type without
 * appearing here (and so in docs/api.md and `/v1/openapi.json`).
 */
function allOf<T extends string>() {
  return <const A extends readonly T[]>(values: A & ([T] extends [A[number]] ? unknown : { missing: Exclude<T, A[number]> })): readonly T[] => values;
}

/**
 * The enumerations a client branches on (`state`, `status`, `kind`, `role`, …), defined once in
 * the types they come from; `scripts/gen-api-doc.ts` lists them in docs/api.md and the OpenAPI
 * document declares each as a component schema.
 */
export const API_ENUMS: readonly ApiEnum[] = Object.freeze([
  { name: 'RotationState', where: 'a rotation job\'s `state` (`GET /v1/rotations/{id}`, `rotation list`; `rotation status` adds `none`)', values: allOf<RotationState>()(['pending', 'claimed', 'applied', 'promoted', 'retired', 'preflight_passed', 'failed', 'stuck', 'cancelled']) },
  { name: 'RotationKind', where: 'a rotation job\'s `kind`', values: allOf<RotationKind>()(['rotate', 'retire', 'preflight']) },
  { name: 'RotationStrategy', where: 'a rotation policy\'s `strategy`', values: allOf<Strategy>()(['single', 'dual', 'alternating']) },
  { name: 'LeaseState', where: 'a lease\'s `state` (`GET /v1/leases/{id}`, `GET /v1/leases`; docs/leases.md)', values: allOf<LeaseState>()(['creating', 'active', 'revoking', 'revoked', 'expired', 'failed']) },
  { name: 'LeaseJobKind', where: 'a lease job\'s `kind` (`leaseJobs` in `GET /v1/agent/rotations`, the claim)', values: allOf<LeaseJobKind>()(['create', 'renew', 'drop']) },
  { name: 'SecretVersionState', where: 'a secret version\'s `state` (`GET /v1/projects/{project}/secrets/{name}/versions`)', values: allOf<SecretVersionState>()(['pending', 'live', 'previous', 'retired', 'discarded']) },
  { name: 'SecretKind', where: 'a secret\'s `kind` (`GET /v1/projects/{project}/secrets`)', values: allOf<SecretKind>()(['plain', 'structured', 'database']) },
  { name: 'MachineStatus', where: 'a machine\'s `status` (`GET /v1/machines`, enrollment answers)', values: allOf<MachineStatus>()(['pending_approval', 'active', 'disabled', 'expired']) },
  { name: 'IdentityStatus', where: 'an operator\'s `status`', values: allOf<IdentityStatus>()(['active', 'disabled']) },
  { name: 'OperatorRole', where: 'an operator\'s `role` (least role of a route: docs/api.md\'s route table)', values: allOf<OperatorRole>()(['viewer', 'admin', 'owner']) },
  { name: 'AiAgentStatus', where: 'an AI agent\'s `status` (`GET /v1/ai-agents`)', values: allOf<AiAgentStatus>()(['active', 'disabled', 'revoked']) },
  { name: 'AiScope', where: 'an AI agent\'s `scopes`; an operation\'s `x-sikkerkey-scope` (docs/api.md, "AI agent scopes")', values: ALL_AI_SCOPES },
  { name: 'RotationPausedReason', where: 'a rotation policy\'s `pausedReason` (`rotation status`, `rotation list`)', values: allOf<PausedReason>()(['operator', 'secret_deleted', 'project_deleted', 'machine_removed', 'awaiting_approval']) },
  { name: 'TokenState', where: 'an enrollment or bootstrap token\'s `state` (derived when listed)', values: allOf<TokenState>()(['active', 'used', 'expired', 'revoked']) },
  { name: 'AuditOutcome', where: 'an audit event\'s `outcome` (`GET /v1/audit`)', values: allOf<Outcome>()(['success', 'denied', 'failure']) },
  { name: 'AuditActorKind', where: 'an audit event\'s `actorKind`', values: allOf<ActorKind>()(['operator', 'machine', 'ai_agent', 'system']) },
  { name: 'ReadinessStore', where: '`GET /readyz` → `checks.store`', values: allOf<Readiness['checks']['store']>()(['ok', 'unreachable']) },
  { name: 'ReadinessMigrations', where: '`GET /readyz` → `checks.migrations`', values: allOf<Readiness['checks']['migrations']>()(['current', 'pending', 'unknown']) },
  { name: 'ReadinessRootKey', where: '`GET /readyz` → `checks.rootKey`', values: allOf<Readiness['checks']['rootKey']>()(['loaded', 'mismatch', 'unknown']) },
]);

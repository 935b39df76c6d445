/**
 * Every value of the union `T`, checked by the compiler both ways: a value outside `T` and a
 * member of `T` left out are compile errors, so a new state cannot be added to a type without
 * appearing here (and so in docs/api.md and `/v1/openapi.json`).
 */
function allOf() {
    return (values) => values;
}
/**
 * The enumerations a client branches on (`state`, `status`, `kind`, `role`, …), defined once in
 * the types they come from; `scripts/gen-api-doc.ts` lists them in docs/api.md and the OpenAPI
 * document declares each as a component schema.
 */
export const API_ENUMS = Object.freeze([
    { name: 'RotationState', where: 'a rotation job\'s `state` (`GET /v1/rotations/{id}`, `rotation list`; `rotation status` adds `none`)', values: allOf()(['pending', 'claimed', 'applied', 'promoted', 'retired', 'preflight_passed', 'failed', 'stuck', 'cancelled']) },
    { name: 'RotationKind', where: 'a rotation job\'s `kind`', values: allOf()(['rotate', 'retire', 'preflight']) },
    { name: 'RotationStrategy', where: 'a rotation policy\'s `strategy`', values: allOf()(['single', 'dual', 'alternating']) },
    { name: 'SecretVersionState', where: 'a secret version\'s `state` (`GET /v1/projects/{project}/secrets/{name}/versions`)', values: allOf()(['pending', 'live', 'previous', 'retired', 'discarded']) },
    { name: 'SecretKind', where: 'a secret\'s `kind` (`GET /v1/projects/{project}/secrets`)', values: allOf()(['plain', 'structured', 'database']) },
    { name: 'MachineStatus', where: 'a machine\'s `status` (`GET /v1/machines`, enrollment answers)', values: allOf()(['pending_approval', 'active', 'disabled', 'expired']) },
    { name: 'IdentityStatus', where: 'an operator\'s `status`', values: allOf()(['active', 'disabled']) },
    { name: 'OperatorRole', where: 'an operator\'s `role` (least role of a route: docs/api.md\'s route table)', values: allOf()(['viewer', 'admin', 'owner']) },
    { name: 'TokenState', where: 'an enrollment or bootstrap token\'s `state` (derived when listed)', values: allOf()(['active', 'used', 'expired', 'revoked']) },
    { name: 'AuditOutcome', where: 'an audit event\'s `outcome` (`GET /v1/audit`)', values: allOf()(['success', 'denied', 'failure']) },
    { name: 'AuditActorKind', where: 'an audit event\'s `actorKind`', values: allOf()(['operator', 'machine', 'ai_agent', 'system']) },
    { name: 'ReadinessStore', where: '`GET /readyz` → `checks.store`', values: allOf()(['ok', 'unreachable']) },
    { name: 'ReadinessMigrations', where: '`GET /readyz` → `checks.migrations`', values: allOf()(['current', 'pending', 'unknown']) },
    { name: 'ReadinessRootKey', where: '`GET /readyz` → `checks.rootKey`', values: allOf()(['loaded', 'mismatch', 'unknown']) },
]);
//# sourceMappingURL=api-states.js.map
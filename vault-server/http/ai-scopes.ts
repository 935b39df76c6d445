/**
 * The AI agent scope catalog: the one list of what an AI agent may be allowed to do. A route that
 * lists `ai_agent` in `config.auth` names the scope (or the scopes, any one of which will do) an AI
 * agent needs in `config.scope`; the authenticator refuses an agent without it
 * (`403 SK_ERR_SCOPE_MISSING`). docs/api.md's "AI agent scopes" table and each OpenAPI operation's
 * `x-sikkerkey-scope` are generated from this file and the routes.
 *
 * No scope reaches a secret value: the routes that return values (`config.returnsValues: true`)
 * list machines only, so an AI agent's key id is not even looked up there (DESIGN §2).
 *
 * Adding a scope: add it here with a sentence, give it to routes, regenerate docs/api.md
 * (`npm run gen:api-doc`). `ai-agent create --scopes all` expands to this list at creation time:
 * an agent created before a scope existed does not hold it.
 *
 * @example
 *   app.get('/v1/machines', { config: { auth: ['operator', 'ai_agent'], scope: 'machines:read', returnsValues: false } }, …);
 */
export const AI_SCOPES = Object.freeze({
  'projects:read': 'list projects',
  'projects:write': 'create, rename, delete (to the trash) and restore projects; rotate a project\'s key',
  'secrets:read': 'list secrets, their versions, metadata and the trash; export a project\'s metadata (never a value)',
  'secrets:write': 'create secrets and write, roll back or import values of secrets no rotation policy uses (target or admin secret); rename, describe, delete and restore secrets',
  'machines:read': 'list machines and their extensions',
  'machines:write': 'disable, rename, remove machines; extend and revert their lifetimes (never add, approve or enable one)',
  'grants:read': 'list grants',
  'grants:write': 'grant machines secrets and remove grants (audited with the agent\'s name)',
  'rotations:read': 'list rotation policies, a secret\'s rotation status and rotation jobs',
  'rotations:write': 'set (stays paused until an operator runs `rotation approve`), pause, resume, delete rotation policies; resolve a stuck rotation',
  'rotations:trigger': 'run a rotation now (of a policy an operator set or approved) and follow its jobs',
  'access-policies:read': 'read access policies',
  'access-policies:write': 'set and remove access policies',
  'enroll-tokens:read': 'list enrollment and bootstrap tokens',
  'enroll-tokens:write': 'create and revoke enrollment and bootstrap tokens (their machines always wait for an operator\'s `machine approve`)',
  'audit:read': 'read, verify and checkpoint the audit log',
  'alerts:read': 'list webhooks, their deliveries and alert rules',
  'alerts:write': 'add, remove and test alert rules',
  'canaries:read': 'list canaries',
  'canaries:write': 'plant canaries',
} as const);

export type AiScope = keyof typeof AI_SCOPES;

/** Every scope, in catalog order (what `--scopes all` expands to). */
export const ALL_AI_SCOPES: readonly AiScope[] = Object.freeze(Object.keys(AI_SCOPES) as AiScope[]);

export function isAiScope(value: string): value is AiScope {
  return Object.hasOwn(AI_SCOPES, value);
}

/** A route's `config.scope` as a list (a route may accept any one of several scopes). */
export function scopeList(scope: AiScope | readonly AiScope[] | undefined): readonly AiScope[] {
  if (scope === undefined) return [];
  return typeof scope === 'string' ? [scope] : scope;
}

/**
 * AI agents (issue 23): a management identity in its own table, with scopes from the catalog in
 * http/ai-scopes.ts and no route that returns a secret value. Operators (admin or owner) create,
 * disable, enable and revoke them; the authenticator reads `status`, `scopes`, `ip_allowlist` and
 * `rate_per_minute` on every request (cached, and dropped by the change counter on any change).
 *
 * @example
 *   await createAiAgent(ctx, caller, { name: 'ops-bot', publicKey: 'base64…', scopes: ['all'], allowCidrs: ['10.0.0.0/8'] });
 *   await setAiAgentStatus(ctx, caller, 'ops-bot', 'disable');   // refused from the next request on
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey } from '../../../protocol/keys.js';
import type { Caller } from '../../http/authenticate.js';
import { parseCidrList } from '../../http/auth-guard.js';
import { ALL_AI_SCOPES, isAiScope } from '../../http/ai-scopes.js';
import type { AiScope } from '../../http/ai-scopes.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { AiAgentStatus } from '../../store/database.js';
import { keyOwner } from '../../store/identity-keys.js';
import { isUniqueViolation } from '../../store/locks.js';

export interface AiAgentView {
  id: string;
  name: string;
  keyId: string;
  scopes: string[];
  status: AiAgentStatus;
  /** CIDRs it may call from; empty = any address (the vault-wide --allow-cidr still applies). */
  allowCidrs: string[];
  /** Requests per minute per key; null = the vault's default. */
  ratePerMinute: number | null;
  createdAt: number;
  createdBy: string | null;
  disabledAt: number | null;
  revokedAt: number | null;
}

export interface CreateAiAgentRequest {
  name: string;
  publicKey: string;
  /** Catalog scopes, or `all` (expanded now: scopes added to the catalog later are not granted). */
  scopes: readonly string[];
  allowCidrs?: readonly string[];
  ratePerMinute?: number;
}

export const MAX_AI_AGENT_RATE_PER_MINUTE = 100_000;

interface AiAgentRow {
  id: string; name: string; key_id: string; scopes: string; status: AiAgentStatus; ip_allowlist: string | null;
  rate_per_minute: number | null; created_at: number; created_by: string | null; disabled_at: number | null; revoked_at: number | null;
}

const COLUMNS = ['id', 'name', 'key_id', 'scopes', 'status', 'ip_allowlist', 'rate_per_minute', 'created_at', 'created_by', 'disabled_at', 'revoked_at'] as const;

const toView = (r: AiAgentRow): AiAgentView => ({
  id: r.id, name: r.name, keyId: r.key_id, scopes: JSON.parse(r.scopes) as string[], status: r.status,
  allowCidrs: r.ip_allowlist ? (JSON.parse(r.ip_allowlist) as string[]) : [], ratePerMinute: r.rate_per_minute,
  createdAt: r.created_at, createdBy: r.created_by, disabledAt: r.disabled_at, revokedAt: r.revoked_at,
});

/** `all` → every catalog scope; otherwise each must be in the catalog. Sorted in catalog order, no repeats. */
export function expandScopes(requested: readonly string[]): AiScope[] {
  if (requested.length === 0) throw new SikkerKeyError('SK_ERR_SCOPE_UNKNOWN', 'give at least one scope, or all');
  if (requested.includes('all')) return [...ALL_AI_SCOPES];
  const unknown = requested.filter((s) => !isAiScope(s));
  if (unknown.length > 0) {
    throw new SikkerKeyError('SK_ERR_SCOPE_UNKNOWN', `not in the scope catalog: ${unknown.map((s) => JSON.stringify(s)).join(', ')} (known: ${ALL_AI_SCOPES.join(', ')}, or all)`);
  }
  const wanted = new Set(requested);
  return ALL_AI_SCOPES.filter((s) => wanted.has(s));
}

export async function createAiAgent(ctx: VaultContext, caller: Caller, req: CreateAiAgentRequest): Promise<AiAgentView> {
  const raw = parsePublicKey(req.publicKey);
  const keyId = keyIdFromPublicKey(raw);
  const scopes = expandScopes(req.scopes);
  const allowCidrs = [...new Set(req.allowCidrs ?? [])];
  try {
    parseCidrList(allowCidrs, 'allowCidrs');
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_VALIDATION', err instanceof Error ? err.message : String(err));
  }
  const rate = req.ratePerMinute;
  if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < 1 || rate > MAX_AI_AGENT_RATE_PER_MINUTE)) {
    throw new SikkerKeyError('SK_ERR_VALIDATION', `the rate limit is a whole number of requests per minute from 1 to ${MAX_AI_AGENT_RATE_PER_MINUTE}`);
  }
  const row: AiAgentRow = {
    id: randomUUID(), name: req.name, key_id: keyId, scopes: JSON.stringify(scopes), status: 'active',
    ip_allowlist: allowCidrs.length > 0 ? JSON.stringify(allowCidrs) : null, rate_per_minute: rate ?? null,
    created_at: ctx.now(), created_by: caller.id, disabled_at: null, revoked_at: null,
  };
  try {
    await writeTx(ctx, async (trx, audit) => {
      // One key, one identity: an AI agent's key registered as a machine would read values.
      const owner = await keyOwner(trx, keyId);
      if (owner) throw new SikkerKeyError('SK_ERR_CONFLICT', 'this public key already belongs to another identity: generate a new key for the AI agent');
      await trx.insertInto('ai_agents').values({ ...row, public_key: Buffer.from(raw) }).execute();
      await audit({
        action: 'ai_agent.create', target: `ai_agent:${req.name}`, outcome: 'success',
        details: { aiAgentId: row.id, keyId, scopes, allowCidrs, ratePerMinute: row.rate_per_minute },
      }, caller);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_CONFLICT', `an AI agent named ${JSON.stringify(req.name)} exists already (revoked agents keep their names)`);
    throw err;
  }
  return toView(row);
}

export async function listAiAgents(ctx: VaultContext): Promise<AiAgentView[]> {
  const rows = await ctx.store.db.selectFrom('ai_agents').select(COLUMNS).orderBy('name').execute();
  return rows.map(toView);
}

async function requireAiAgent(trx: Tx, name: string): Promise<AiAgentRow> {
  const row = await trx.selectFrom('ai_agents').select(COLUMNS).where((eb) => eb.or([eb('name', '=', name), eb('id', '=', name)])).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no AI agent named ${JSON.stringify(name.slice(0, 128))}`);
  return row;
}

/**
 * `disable` refuses the agent from its next request on (on every worker: the change counter);
 * `enable` undoes a disable; `revoke` is for good (its key is refused, enable is refused, the name
 * stays taken so the audit trail keeps meaning one agent). Repeating a change changes nothing.
 */
export async function setAiAgentStatus(ctx: VaultContext, caller: Caller, name: string, change: 'disable' | 'enable' | 'revoke'): Promise<AiAgentView> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await requireAiAgent(trx, name);
    const to: AiAgentStatus = change === 'disable' ? 'disabled' : change === 'enable' ? 'active' : 'revoked';
    if (row.status === to) return toView(row);
    if (row.status === 'revoked') throw new SikkerKeyError('SK_ERR_CONFLICT', `AI agent ${row.name} was revoked; create a new one with a new key`);
    const now = ctx.now();
    const set = change === 'disable' ? { status: to, disabled_at: now } : change === 'enable' ? { status: to, disabled_at: null } : { status: to, revoked_at: now };
    await trx.updateTable('ai_agents').set(set).where('id', '=', row.id).execute();
    await audit({ action: `ai_agent.${change}`, target: `ai_agent:${row.name}`, outcome: 'success', details: { aiAgentId: row.id, from: row.status, to } }, caller);
    return toView({ ...row, ...set });
  });
}

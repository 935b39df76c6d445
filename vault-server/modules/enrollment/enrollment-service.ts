/**
 * Registration of a machine with an enrollment or temp-bootstrap token (`POST /v1/enroll`).
 * The route has already verified that the request is signed by the key it registers (proof of
 * possession) and claimed its nonce; this service checks the token and its constraints and mints
 * the machine, all in one transaction that holds the token row (`FOR UPDATE` on PostgreSQL, the
 * one writer on SQLite), so `maxUses` holds under any concurrency.
 *
 * @example
 *   const m = await enrollMachine(ctx, { geoip }, { token, publicKey: raw, keyId, hostname: 'runner-7', sourceIp: '10.0.3.4' });
 *   m.status; // 'active' (enrollment) | 'pending_approval' (bootstrap, unless created with noApproval)
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { forUpdate, isUniqueViolation } from '../../store/locks.js';
import { matchesCidr } from '../../http/auth-guard.js';
import { evaluateGuards } from '../machines/machine-constraints.js';
import type { GeoIpLookup } from '../machines/machine-geoip.js';
import { keyOwner } from '../../store/identity-keys.js';
import { BOOTSTRAP_MAX_LIFETIME_MS, HOSTNAME_MAX_LENGTH, TOKEN_KINDS, hashToken, kindOfToken, parseTokenConstraints } from './enrollment-tokens.js';
import type { TokenGrant, TokenKind } from './enrollment-tokens.js';
import { DEFAULT_NAME_TEMPLATE, hasRandom, renderName } from './enrollment-name-template.js';

export interface EnrollRequest {
  token: string;
  /** The raw 32-byte public key the request was signed with. */
  publicKey: Uint8Array;
  keyId: string;
  /** As the host states it: advisory (a host can claim any name). */
  hostname: string;
  /** The request's source address (after --trust-proxy). */
  sourceIp: string;
}

export interface EnrollResult {
  machineId: string;
  name: string;
  keyId: string;
  expiresAt: number | null;
  status: 'active' | 'pending_approval';
}

/** Why an enrollment was refused, for the audit trail (the caller gets less: no hint which). */
export interface EnrollRefusal {
  tokenId: string | null;
  kind: TokenKind | null;
  reason: string;
}

const invalidToken = (): SikkerKeyError => new SikkerKeyError('SK_ERR_TOKEN_INVALID', 'the token is unknown, used up, revoked or expired');

/**
 * Mints the machine. Throws SK_ERR_TOKEN_INVALID (unknown / used / expired / revoked — no hint
 * which), SK_ERR_TOKEN_CONSTRAINT (source CIDR, hostname, bootstrap guardrails: the message says
 * which), SK_ERR_CONSTRAINT_UNKNOWN (a constraint this server does not know), SK_ERR_CONFLICT
 * (the key is registered already). `refusal` (when given) receives the precise reason.
 */
export async function enrollMachine(ctx: VaultContext, deps: { geoip?: GeoIpLookup }, req: EnrollRequest, refusal?: EnrollRefusal): Promise<EnrollResult> {
  const kind = kindOfToken(req.token);
  const note = (tokenId: string | null, reason: string): void => {
    if (refusal) Object.assign(refusal, { tokenId, kind: kind ?? null, reason });
  };
  if (!kind) {
    note(null, 'unknown token prefix');
    throw invalidToken();
  }
  if (req.hostname.length > HOSTNAME_MAX_LENGTH) {
    note(null, 'hostname too long');
    throw new SikkerKeyError('SK_ERR_VALIDATION', `a hostname is at most ${HOSTNAME_MAX_LENGTH} characters (DNS); this one has ${req.hostname.length}`);
  }
  // The hostname regex is matched here, before the write transaction (on SQLite it holds the only
  // writer lock): whatever the match costs, no other write waits for it.
  const hostnameCheck = await matchHostnameOutsideTx(ctx, kind, req);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await writeTx(ctx, (trx, audit) => mint(ctx, deps, trx, audit, kind, req, note, hostnameCheck));
    } catch (err) {
      // Two enrollments of different tokens raced for one generated name (PostgreSQL): try again.
      if (attempt < 3 && isUniqueViolation(err)) continue;
      if (isUniqueViolation(err)) {
        note(null, 'name or key conflict');
        throw new SikkerKeyError('SK_ERR_CONFLICT', 'a machine with this key or name was registered meanwhile', { cause: err });
      }
      throw err;
    }
  }
}

type AuditFn = Parameters<Parameters<typeof writeTx>[1]>[1];

/** The hostname regex's verdict, for the constraints JSON it was computed from. */
interface HostnameCheck {
  constraints: string | null;
  matches: boolean | undefined;
}

/**
 * Reads the token's constraints without a lock and matches the hostname against its regex.
 * The transaction uses the verdict only if the row still carries the same constraints (they never
 * change after creation; otherwise it matches again). Errors (an unreadable or unsupported
 * constraint) are left to the transaction, which reports them after the token's own checks.
 */
async function matchHostnameOutsideTx(ctx: VaultContext, kind: TokenKind, req: EnrollRequest): Promise<HostnameCheck | undefined> {
  const row = await ctx.store.db.selectFrom(TOKEN_KINDS[kind].table).select('constraints')
    .where('token_hash', '=', hashToken(req.token)).executeTakeFirst();
  if (!row) return undefined;
  try {
    const c = parseTokenConstraints(kind, row.constraints);
    return { constraints: row.constraints, matches: c.hostnameRegex ? c.hostnameRegex.test(req.hostname) : undefined };
  } catch {
    return undefined;
  }
}

async function mint(
  ctx: VaultContext, deps: { geoip?: GeoIpLookup }, trx: Tx, audit: AuditFn, kind: TokenKind, req: EnrollRequest,
  note: (tokenId: string | null, reason: string) => void, hostnameCheck: HostnameCheck | undefined,
): Promise<EnrollResult> {
  const spec = TOKEN_KINDS[kind];
  const now = ctx.now();
  const token = await forUpdate(ctx.store.dialect, trx.selectFrom(spec.table).selectAll().where('token_hash', '=', hashToken(req.token)))
    .executeTakeFirst();
  if (!token) { note(null, 'unknown token'); throw invalidToken(); }
  if (token.revoked_at !== null) { note(token.id, 'revoked'); throw invalidToken(); }
  if (token.expires_at <= now) { note(token.id, 'expired'); throw invalidToken(); }
  // A bootstrap token is single-use whatever its row says.
  const maxUses = kind === 'bootstrap' ? 1 : token.max_uses;
  if (maxUses !== null && token.uses >= maxUses) { note(token.id, 'used up'); throw invalidToken(); }

  let c;
  try {
    c = parseTokenConstraints(kind, token.constraints);
  } catch (err) {
    note(token.id, err instanceof SikkerKeyError && err.code === 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED' ? 'hostname regex unsupported (needs backtracking)' : 'unknown constraint');
    throw err;
  }
  if (c.sourceCidrs && !matchesCidr(c.sourceCidrs.list, req.sourceIp)) {
    note(token.id, 'source address outside the CIDRs');
    throw new SikkerKeyError('SK_ERR_TOKEN_CONSTRAINT', `the source address ${req.sourceIp} is outside the token's CIDRs`, { details: { constraint: 'sourceCidrs' } });
  }
  const hostnameMatches = hostnameCheck && hostnameCheck.constraints === token.constraints
    ? hostnameCheck.matches
    : c.hostnameRegex?.test(req.hostname);
  if (c.hostnameRegex && hostnameMatches !== true) {
    note(token.id, 'hostname does not match');
    throw new SikkerKeyError('SK_ERR_TOKEN_CONSTRAINT', `the hostname ${JSON.stringify(req.hostname)} does not match the token's hostname regex`, { details: { constraint: 'hostnameRegex' } });
  }
  // A bootstrap token carries its machine's guardrails; a registration outside them would mint a
  // machine that cannot be used, so it is refused and the single use stays unspent.
  const guard = evaluateGuards(c, req.sourceIp, now, deps.geoip);
  if (guard) {
    note(token.id, `${guard.rule} guardrail`);
    throw new SikkerKeyError('SK_ERR_TOKEN_CONSTRAINT', `the token's ${guard.rule} guardrail refuses this registration: ${guard.message}`, { details: { constraint: guard.rule } });
  }

  if (await keyOwner(trx, req.keyId)) {
    note(token.id, 'key already registered');
    throw new SikkerKeyError('SK_ERR_CONFLICT', 'this public key is registered already; generate a new key to enroll another machine');
  }

  const grants = JSON.parse(token.grants) as TokenGrant[];
  for (const g of grants) {
    const ok = g.secretId
      ? await trx.selectFrom('secrets').select('id').where('id', '=', g.secretId).where('project_id', '=', g.projectId).executeTakeFirst()
      : await trx.selectFrom('projects').select('id').where('id', '=', g.projectId).executeTakeFirst();
    if (!ok) {
      note(token.id, 'a pre-baked grant no longer resolves');
      throw new SikkerKeyError('SK_ERR_CONFLICT', 'the token\'s project or secret no longer exists; ask an operator for a new token');
    }
  }

  const uses = token.uses + 1;
  const template = c.nameTemplate ?? DEFAULT_NAME_TEMPLATE;
  let name = renderName(template, { hostname: req.hostname, n: uses, now });
  for (let i = 0; await trx.selectFrom('machines').select('id').where('name', '=', name).executeTakeFirst(); i += 1) {
    if (i >= 8) {
      note(token.id, 'no free name');
      throw new SikkerKeyError('SK_ERR_CONFLICT', 'no free machine name from the token\'s name template');
    }
    name = renderName(template, { hostname: req.hostname, n: uses, now, suffix: !hasRandom(template) });
  }

  const needsApproval = token.requires_approval === 1 || token.created_by_kind === 'ai_agent';
  const status = needsApproval ? 'pending_approval' : 'active';
  const lifetime = token.machine_lifetime_ms;
  const expiresAt = lifetime === null ? null : now + lifetime;
  const machineId = randomUUID();
  const labels = token.labels ? (JSON.parse(token.labels) as string[]) : [];
  await trx.insertInto('machines').values({
    id: machineId, name, public_key: Buffer.from(req.publicKey), key_id: req.keyId, labels: JSON.stringify(labels), status,
    expires_at: expiresAt,
    ip_allowlist: c.ipAllowlist ? JSON.stringify(c.ipAllowlist.cidrs) : null,
    country_allowlist: c.countries ? JSON.stringify([...c.countries]) : null,
    time_window: c.window ? c.window.text : null,
    // The 12-month bound travels with the machine: extensions cannot pass it, and the per-request
    // check treats the machine as expired from then on.
    constraints: kind === 'bootstrap' ? JSON.stringify({ maxExpiresAt: now + BOOTSTRAP_MAX_LIFETIME_MS }) : null,
    created_via: spec.createdVia, created_by: token.created_by, token_id: token.id, approved_at: null, approved_by: null,
    last_seen_at: null, disabled_at: null, created_at: now,
  }).execute();
  for (const g of grants) {
    await trx.insertInto('grants').values({
      id: randomUUID(), machine_id: machineId, project_id: g.projectId, secret_id: g.secretId ?? null, fields: null,
      created_at: now, created_by: `${kind}_token:${token.id}`,
    }).execute();
  }
  await trx.updateTable(spec.table).set({ uses }).where('id', '=', token.id).execute();
  // A machine from an AI agent's token carries that agent's name in its trail (DESIGN §2).
  const aiAgent = token.created_by_kind === 'ai_agent' && token.created_by
    ? (await trx.selectFrom('ai_agents').select('name').where('id', '=', token.created_by).executeTakeFirst())?.name ?? token.created_by
    : undefined;
  await audit({
    action: 'machine.enroll', actorKind: 'machine', actorId: machineId, actorName: name, sourceIp: req.sourceIp, projectId: grants[0]?.projectId ?? null,
    target: `machine:${name}`, outcome: 'success',
    details: {
      machineId, keyId: req.keyId, tokenKind: kind, tokenId: token.id, hostname: req.hostname, status, expiresAt, labels,
      grants: grants.map((g) => `${g.project}/${g.secret ?? '*'}`), use: uses,
      ...(aiAgent !== undefined ? { tokenCreatedBy: `ai_agent:${aiAgent}` } : {}),
    },
  });
  return { machineId, name, keyId: req.keyId, expiresAt, status };
}

/** Records a refused enrollment in its own transaction (the refused one rolled back). */
export async function auditRefusedEnrollment(ctx: VaultContext, e: { refusal: EnrollRefusal; code: string; keyId: string | undefined; hostname: string | undefined; sourceIp: string }): Promise<void> {
  try {
    await writeTx(ctx, (_trx, audit) => audit({
      action: 'machine.enroll', actorKind: 'machine', actorId: null, sourceIp: e.sourceIp,
      target: e.refusal.tokenId ? `${e.refusal.kind}_token:${e.refusal.tokenId}` : 'token:unknown', outcome: 'denied',
      details: { code: e.code, reason: e.refusal.reason, keyId: e.keyId ?? null, hostname: e.hostname ?? null, tokenKind: e.refusal.kind },
    }));
  } catch (err) {
    ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not record a refused enrollment');
  }
}

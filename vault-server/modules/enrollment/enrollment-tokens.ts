/**
 * Enrollment tokens (fleets: CI runners, autoscaling pods) and temp-bootstrap tokens (one
 * short-lived machine). A token only authorises the one-time registration of a public key; it
 * never authenticates an API call.
 *
 * A token is 32 random bytes, shown once as `ske_<base64url>` (enrollment) or `skb_<base64url>`
 * (bootstrap); the prefix tells the vault which table to look in. Only its SHA-256 (hex) is
 * stored. Creation and revocation are audited, never the token itself.
 *
 * @example
 *   const { id, token } = await createToken(ctx, caller, 'enrollment', {
 *     project: 'ci', secrets: ['deploy-key'], machineLifetimeMs: 2 * 3_600_000, maxUses: 50,
 *     sourceCidrs: ['10.0.0.0/8'], hostnameRegex: 'runner-[0-9]+', nameTemplate: 'ci-{hostname}-{rand4}',
 *   });
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { RE2JS } from 're2js';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import type { Row } from '../../store/database.js';
import { requireProject } from '../projects/projects-service.js';
import { parseIpAllowlist } from '../machines/machine-constraints.js';
import type { Guards } from '../machines/machine-constraints.js';
import { parseCountryList } from '../machines/machine-geoip.js';
import { parseTimeWindow } from '../machines/machine-time-window.js';
import { validateNameTemplate } from './enrollment-name-template.js';

export type TokenKind = 'enrollment' | 'bootstrap';
/** A token's `state` in `GET /v1/enroll-tokens` and `/v1/bootstrap-tokens`: derived, not stored. */
export type TokenState = 'active' | 'used' | 'expired' | 'revoked';

export const TOKEN_KINDS = {
  enrollment: { table: 'enrollment_tokens', prefix: 'ske_', createdVia: 'enrollment_token' },
  bootstrap: { table: 'bootstrap_tokens', prefix: 'skb_', createdVia: 'bootstrap_token' },
} as const;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** "12 months" is 365 days: the bound of a bootstrap machine's lifetime, extensions included. */
export const BOOTSTRAP_MAX_LIFETIME_MS = 365 * DAY;
export const BOOTSTRAP_MIN_LIFETIME_MS = HOUR;
export const ENROLLMENT_MIN_LIFETIME_MS = 60_000;
export const ENROLLMENT_MAX_LIFETIME_MS = 365 * DAY;
export const TOKEN_MAX_EXPIRY_MS = 365 * DAY;
export const DEFAULT_TOKEN_EXPIRY_MS: Record<TokenKind, number> = { enrollment: 7 * DAY, bootstrap: DAY };

/** The keys a token's `constraints` JSON may hold, per kind; anything else fails closed at enrollment. */
export const TOKEN_CONSTRAINT_KEYS: Record<TokenKind, readonly string[]> = {
  enrollment: ['hostnameRegex', 'sourceCidrs', 'nameTemplate'],
  bootstrap: ['ipAllowlist', 'countryAllowlist', 'timeWindow', 'nameTemplate'],
};

/** A token's constraints, parsed. */
export interface TokenConstraints extends Guards {
  hostnameRegex?: HostnameMatcher;
  sourceCidrs?: Guards['ipAllowlist'];
  nameTemplate?: string;
}

/** One pre-baked grant, stored by id (names only for display). */
export interface TokenGrant {
  projectId: string;
  project: string;
  secretId?: string;
  secret?: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The kind a token's prefix names, or undefined. */
export function kindOfToken(token: string): TokenKind | undefined {
  if (token.startsWith(TOKEN_KINDS.enrollment.prefix)) return 'enrollment';
  if (token.startsWith(TOKEN_KINDS.bootstrap.prefix)) return 'bootstrap';
  return undefined;
}

/** The longest hostname DNS allows (RFC 1035: 253 characters in text form). */
export const HOSTNAME_MAX_LENGTH = 253;

/** A compiled hostname regex: `test` runs in time linear in the hostname (RE2 semantics, no backtracking). */
export interface HostnameMatcher {
  source: string;
  test(hostname: string): boolean;
}

/**
 * Compiles a hostname regex, matched against the whole hostname, case-insensitively, with RE2
 * (re2js): linear time whatever the pattern, so no pattern can stall the event loop. Throws
 * SK_ERR_VALIDATION for a pattern that is not a regular expression at all (or is empty / over 256
 * characters) and SK_ERR_ENROLL_PATTERN_UNSUPPORTED for one that only backtracking engines
 * accept (look-around, back-references).
 */
export function compileHostnameRegex(source: string): HostnameMatcher {
  if (source.length === 0 || source.length > 256) throw new SikkerKeyError('SK_ERR_VALIDATION', 'a hostname regex is 1–256 characters');
  let re;
  try {
    // The pattern on its own first: wrapped, an unbalanced one such as `a)|(.*` would compile
    // as `^(?:a)|(.*)$` and match every hostname.
    RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
    re = RE2JS.compile(`^(?:${source})$`, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    const shown = JSON.stringify(source.slice(0, 60));
    let isJsRegex = true;
    try {
      new RegExp(source); // only asks whether JavaScript would accept it; never run
    } catch {
      isJsRegex = false;
    }
    if (!isJsRegex) throw new SikkerKeyError('SK_ERR_VALIDATION', `the hostname regex ${shown} is not a valid regular expression`);
    const why = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : 'unsupported syntax';
    throw new SikkerKeyError('SK_ERR_ENROLL_PATTERN_UNSUPPORTED',
      `the hostname regex ${shown} needs a backtracking engine (${why}); hostname regexes are RE2 syntax: no look-around, no back-references`,
      { details: { constraint: 'hostnameRegex' } });
  }
  return { source, test: (hostname) => hostname.length <= HOSTNAME_MAX_LENGTH && re.test(hostname) };
}

/**
 * Parses a stored `constraints` JSON. Throws SK_ERR_CONSTRAINT_UNKNOWN for a key this server
 * does not know for this kind of token, or a value it cannot read (fail closed).
 */
export function parseTokenConstraints(kind: TokenKind, json: string | null): TokenConstraints {
  if (json === null) return {};
  const unknown = (why: string): SikkerKeyError =>
    new SikkerKeyError('SK_ERR_CONSTRAINT_UNKNOWN', `the ${kind} token carries ${why}; this vault refuses it (fail closed)`);
  let c: unknown;
  try {
    c = JSON.parse(json);
  } catch {
    throw unknown('unreadable constraints');
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw unknown('unreadable constraints');
  const out: TokenConstraints = {};
  const strings = (v: unknown): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error('not a list of strings');
    return v as string[];
  };
  for (const [key, value] of Object.entries(c)) {
    if (!TOKEN_CONSTRAINT_KEYS[kind].includes(key)) throw unknown(`the constraint ${JSON.stringify(key.slice(0, 40))}`);
    try {
      switch (key) {
        case 'hostnameRegex': out.hostnameRegex = compileHostnameRegex(String(value)); break;
        case 'sourceCidrs': out.sourceCidrs = parseIpAllowlist(strings(value), 'sourceCidrs'); break;
        case 'nameTemplate': out.nameTemplate = validateNameTemplate(String(value)); break;
        case 'ipAllowlist': out.ipAllowlist = parseIpAllowlist(strings(value), 'ipAllowlist'); break;
        case 'countryAllowlist': out.countries = new Set(parseCountryList(strings(value))); break;
        case 'timeWindow': out.window = parseTimeWindow(String(value)); break;
      }
    } catch (err) {
      // A pattern stored before hostname regexes were RE2: refused with its own code, not as unknown.
      if (err instanceof SikkerKeyError && err.code === 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED') throw err;
      throw unknown(`an unreadable ${key}`);
    }
  }
  return out;
}

export interface CreateTokenRequest {
  project: string;
  secrets?: string[];
  labels?: string[];
  name?: string;
  /** How long the token can be used (default 7 days for enrollment, 24 hours for bootstrap). */
  expiresInMs?: number;
  nameTemplate?: string;
  // enrollment
  machineLifetimeMs?: number;
  maxUses?: number;
  hostnameRegex?: string;
  sourceCidrs?: string[];
  // bootstrap
  lifetimeMs?: number;
  ipAllowlist?: string[];
  countryAllowlist?: string[];
  timeWindow?: string;
  /** Bootstrap only: the minted machine is active at once (ignored for tokens an AI agent creates). */
  noApproval?: boolean;
}

export interface TokenView {
  id: string;
  kind: TokenKind;
  name: string | null;
  grants: Array<{ project: string; secret: string | null }>;
  labels: string[];
  constraints: Record<string, unknown>;
  uses: number;
  maxUses: number | null;
  machineLifetimeMs: number | null;
  requiresApproval: boolean;
  expiresAt: number;
  revokedAt: number | null;
  state: TokenState;
  createdBy: string;
  createdAt: number;
}

function toView(kind: TokenKind, r: Row<'enrollment_tokens'>, now: number): TokenView {
  const grants = (JSON.parse(r.grants) as TokenGrant[]).map((g) => ({ project: g.project, secret: g.secret ?? null }));
  const state: TokenState = r.revoked_at !== null ? 'revoked' : r.max_uses !== null && r.uses >= r.max_uses ? 'used' : r.expires_at <= now ? 'expired' : 'active';
  return {
    id: r.id, kind, name: r.name, grants, labels: r.labels ? (JSON.parse(r.labels) as string[]) : [],
    constraints: r.constraints ? (JSON.parse(r.constraints) as Record<string, unknown>) : {},
    uses: r.uses, maxUses: r.max_uses, machineLifetimeMs: r.machine_lifetime_ms, requiresApproval: r.requires_approval === 1,
    expiresAt: r.expires_at, revokedAt: r.revoked_at, state, createdBy: r.created_by, createdAt: r.created_at,
  };
}

function between(value: number | undefined, min: number, max: number, what: string): number {
  if (value === undefined || !Number.isSafeInteger(value) || value < min || value > max) {
    const fmt = (ms: number): string => (ms % DAY === 0 ? `${ms / DAY}d` : ms % HOUR === 0 ? `${ms / HOUR}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);
    throw new SikkerKeyError('SK_ERR_VALIDATION', `${what} must be between ${fmt(min)} and ${fmt(max)}`);
  }
  return value;
}

/** Checks a request's constraints and returns the JSON to store (null when there are none). */
function constraintsFor(kind: TokenKind, req: CreateTokenRequest): string | null {
  const c: Record<string, unknown> = {};
  if (req.nameTemplate !== undefined) c.nameTemplate = validateNameTemplate(req.nameTemplate);
  if (kind === 'enrollment') {
    if (req.ipAllowlist || req.countryAllowlist || req.timeWindow) {
      throw new SikkerKeyError('SK_ERR_VALIDATION', 'IP / country / time-window guardrails belong to bootstrap tokens; enrollment tokens take sourceCidrs and hostnameRegex');
    }
    if (req.hostnameRegex !== undefined) c.hostnameRegex = compileHostnameRegex(req.hostnameRegex).source;
    if (req.sourceCidrs !== undefined) c.sourceCidrs = parseIpAllowlist(req.sourceCidrs, 'sourceCidrs').cidrs;
  } else {
    if (req.hostnameRegex !== undefined || req.sourceCidrs !== undefined || req.maxUses !== undefined || req.machineLifetimeMs !== undefined) {
      throw new SikkerKeyError('SK_ERR_VALIDATION', 'bootstrap tokens are single-use and take lifetime, ipAllowlist, countryAllowlist and timeWindow');
    }
    if (req.ipAllowlist !== undefined) c.ipAllowlist = parseIpAllowlist(req.ipAllowlist, 'ipAllowlist').cidrs;
    if (req.countryAllowlist !== undefined) c.countryAllowlist = parseCountryList(req.countryAllowlist);
    if (req.timeWindow !== undefined) c.timeWindow = parseTimeWindow(req.timeWindow).text;
  }
  return Object.keys(c).length > 0 ? JSON.stringify(c) : null;
}

/** Creates a token; the token itself is in the answer and nowhere else. */
export async function createToken(ctx: VaultContext, caller: Caller, kind: TokenKind, req: CreateTokenRequest): Promise<{ id: string; token: string; expiresAt: number }> {
  const expiresIn = between(req.expiresInMs ?? DEFAULT_TOKEN_EXPIRY_MS[kind], 1000, TOKEN_MAX_EXPIRY_MS, 'the token\'s expiry (expiresIn)');
  let lifetime: number;
  let maxUses: number | null;
  if (kind === 'enrollment') {
    lifetime = between(req.machineLifetimeMs, ENROLLMENT_MIN_LIFETIME_MS, ENROLLMENT_MAX_LIFETIME_MS, 'the machine lifetime (machineLifetime)');
    if (req.maxUses !== undefined && (!Number.isSafeInteger(req.maxUses) || req.maxUses < 1)) {
      throw new SikkerKeyError('SK_ERR_VALIDATION', 'maxUses must be a whole number of at least 1');
    }
    maxUses = req.maxUses ?? null;
  } else {
    lifetime = between(req.lifetimeMs, BOOTSTRAP_MIN_LIFETIME_MS, BOOTSTRAP_MAX_LIFETIME_MS, 'a bootstrap machine\'s lifetime');
    maxUses = 1;
  }
  const constraints = constraintsFor(kind, req);
  // Machines from a token an AI agent created always wait for an operator (DESIGN §2).
  const requiresApproval = caller.kind === 'ai_agent' || (kind === 'bootstrap' && req.noApproval !== true);

  const token = TOKEN_KINDS[kind].prefix + randomBytes(32).toString('base64url');
  const id = randomUUID();
  const now = ctx.now();
  const expiresAt = now + expiresIn;
  await writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, req.project);
    const grants: TokenGrant[] = [];
    const secrets = [...new Set(req.secrets ?? [])];
    for (const name of secrets) {
      const s = await trx.selectFrom('secrets').select('id').where('project_id', '=', project.id).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
      if (!s) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(name)} in project ${JSON.stringify(req.project)}`);
      grants.push({ projectId: project.id, project: req.project, secretId: s.id, secret: name });
    }
    if (grants.length === 0) grants.push({ projectId: project.id, project: req.project });
    await trx.insertInto(TOKEN_KINDS[kind].table).values({
      id, token_hash: hashToken(token), name: req.name ?? null, grants: JSON.stringify(grants), constraints,
      labels: JSON.stringify([...new Set(req.labels ?? [])]), max_uses: maxUses, expires_at: expiresAt, revoked_at: null,
      machine_lifetime_ms: lifetime, requires_approval: requiresApproval ? 1 : 0, created_by: caller.id,
      created_by_kind: caller.kind, created_at: now,
    }).execute();
    await audit({
      action: `${kind}_token.create`, projectId: project.id, target: `${kind}_token:${id}`, outcome: 'success',
      details: {
        tokenId: id, name: req.name ?? null, grants: grants.map((g) => g.secret ?? '*'), labels: req.labels ?? [], maxUses,
        machineLifetimeMs: lifetime, requiresApproval, expiresAt, constraints: constraints ? (JSON.parse(constraints) as unknown) : null,
      },
    }, caller);
  });
  return { id, token, expiresAt };
}

export async function listTokens(ctx: VaultContext, kind: TokenKind): Promise<TokenView[]> {
  const rows = await ctx.store.db.selectFrom(TOKEN_KINDS[kind].table).selectAll().orderBy('created_at', 'desc').execute();
  const now = ctx.now();
  return rows.map((r) => toView(kind, r, now));
}

/** Revokes a token (machines it already enrolled stay). Revoking twice changes nothing. */
export async function revokeToken(ctx: VaultContext, caller: Caller, kind: TokenKind, id: string): Promise<TokenView> {
  return writeTx(ctx, async (trx, audit) => {
    const table = TOKEN_KINDS[kind].table;
    const row = await trx.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no ${kind} token ${JSON.stringify(id.slice(0, 64))}`);
    const now = ctx.now();
    if (row.revoked_at !== null) return toView(kind, row, now);
    await trx.updateTable(table).set({ revoked_at: now }).where('id', '=', id).execute();
    const grants = JSON.parse(row.grants) as TokenGrant[];
    await audit({
      action: `${kind}_token.revoke`, projectId: grants[0]?.projectId ?? null, target: `${kind}_token:${id}`, outcome: 'success',
      details: { tokenId: id, uses: row.uses },
    }, caller);
    return toView(kind, { ...row, revoked_at: now }, now);
  });
}

/**
 * The enrollment tokens (live ones: not revoked, not expired) whose hostname regex this vault
 * cannot compile with its linear-time matcher (stored by an older vault that ran JavaScript
 * regexes): each refuses every registration with SK_ERR_ENROLL_PATTERN_UNSUPPORTED. Logged at
 * start so an operator replaces them.
 */
export async function tokensWithUnsupportedPatterns(ctx: VaultContext): Promise<Array<{ id: string; name: string | null; hostnameRegex: string }>> {
  const rows = await ctx.store.db.selectFrom('enrollment_tokens').select(['id', 'name', 'constraints'])
    .where('revoked_at', 'is', null).where('expires_at', '>', ctx.now()).where('constraints', 'is not', null).execute();
  const out: Array<{ id: string; name: string | null; hostnameRegex: string }> = [];
  for (const r of rows) {
    try {
      parseTokenConstraints('enrollment', r.constraints);
    } catch (err) {
      if (!(err instanceof SikkerKeyError && err.code === 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED')) continue;
      const c = JSON.parse(r.constraints as string) as { hostnameRegex?: unknown };
      out.push({ id: r.id, name: r.name, hostnameRegex: String(c.hostnameRegex) });
    }
  }
  return out;
}

/** The start-up warning's stable message. */
export const UNSUPPORTED_PATTERN_WARNING = 'enrollment tokens with a hostname regex that needs a backtracking engine refuse every registration (SK_ERR_ENROLL_PATTERN_UNSUPPORTED): revoke them and create new ones with an RE2 hostname regex';

export async function warnUnsupportedPatterns(ctx: VaultContext): Promise<void> {
  const bad = await tokensWithUnsupportedPatterns(ctx);
  if (bad.length > 0) ctx.log.warn({ tokens: bad }, UNSUPPORTED_PATTERN_WARNING);
}

/**
 * The per-request guardrails of a machine, checked by the auth hook after the signature holds
 * and the status allows the request (http/authenticate.ts): expiry, IP allowlist, ISO-3166 country
 * allowlist, IANA time-of-day window, and the `constraints` JSON.
 *
 * Fail closed: a `constraints` key this server does not know, or a guardrail column it cannot
 * parse, refuses every request of that machine with SK_ERR_CONSTRAINT_UNKNOWN. A newer vault
 * may write a constraint an older replica does not understand; the older one must not ignore it.
 *
 * Known `constraints` keys:
 * - `maxExpiresAt` (ms): the machine is expired from then on, whatever `expires_at` says; set on
 *   temp-bootstrap machines (12 months after creation) and bounding their extensions.
 *
 * @example
 *   const check = createMachineConstraintCheck({ geoip, now: Date.now });
 *   await check(machineRow, request.ip); // throws SikkerKeyError when a guardrail refuses
 */
import type { BlockList } from 'node:net';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { matchesCidr, parseCidrList } from '../../http/auth-guard.js';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import type { GeoIpLookup } from './machine-geoip.js';
import { parseCountryList } from './machine-geoip.js';
import { isInsideWindow, parseTimeWindow } from './machine-time-window.js';
import type { TimeWindow } from './machine-time-window.js';

/** Keys a machine's `constraints` JSON may hold; anything else fails closed. */
export const MACHINE_CONSTRAINT_KEYS: readonly string[] = Object.freeze(['maxExpiresAt']);

/** What the check needs of a machine row. */
export interface MachineConstraintRow {
  id: string;
  name: string;
  expires_at: number | null;
  ip_allowlist: string | null;
  country_allowlist: string | null;
  time_window: string | null;
  constraints: string | null;
}

/** IP / country / time-window guardrails, parsed (shared with bootstrap tokens at registration). */
export interface Guards {
  ipAllowlist?: { cidrs: string[]; list: BlockList };
  countries?: ReadonlySet<string>;
  window?: TimeWindow;
}

export type GuardRule = 'ip' | 'country' | 'window';

/** Which guardrail refused, and why (in words an operator can act on). */
export interface GuardRefusal {
  rule: GuardRule;
  message: string;
}

interface ParsedMachine extends Guards {
  maxExpiresAt?: number;
}

function unknownConstraint(name: string, why: string): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_CONSTRAINT_UNKNOWN', `machine ${name} carries ${why}; this vault refuses it (fail closed)`, { details: { rule: 'unknown' } });
}

function parseJsonArray(text: string, what: string, name: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw unknownConstraint(name, `an unreadable ${what}`);
  }
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) throw unknownConstraint(name, `an unreadable ${what}`);
  return v as string[];
}

/**
 * Parses a CIDR list for an IP guardrail; throws SK_ERR_VALIDATION (operator input) naming the
 * bad entry. A bare address is a /32 (or /128).
 */
export function parseIpAllowlist(cidrs: readonly string[], option: string): { cidrs: string[]; list: BlockList } {
  const clean = cidrs.map((c) => c.trim()).filter((c) => c.length > 0);
  if (clean.length === 0) throw new SikkerKeyError('SK_ERR_VALIDATION', `${option} needs at least one CIDR`);
  try {
    return { cidrs: clean, list: parseCidrList(clean, option) };
  } catch (err) {
    if (err instanceof SikkerKeyError) throw new SikkerKeyError('SK_ERR_VALIDATION', err.message);
    throw err;
  }
}

function parseMachine(row: MachineConstraintRow): ParsedMachine {
  const out: ParsedMachine = {};
  try {
    if (row.ip_allowlist !== null) out.ipAllowlist = parseIpAllowlist(parseJsonArray(row.ip_allowlist, 'IP allowlist', row.name), 'ip_allowlist');
    if (row.country_allowlist !== null) out.countries = new Set(parseCountryList(parseJsonArray(row.country_allowlist, 'country allowlist', row.name)));
    if (row.time_window !== null) out.window = parseTimeWindow(row.time_window);
  } catch (err) {
    if (err instanceof SikkerKeyError && err.code === 'SK_ERR_CONSTRAINT_UNKNOWN') throw err;
    throw unknownConstraint(row.name, `a guardrail it cannot parse (${err instanceof Error ? err.message : 'unreadable'})`);
  }
  if (row.constraints !== null) {
    let c: unknown;
    try {
      c = JSON.parse(row.constraints);
    } catch {
      throw unknownConstraint(row.name, 'unreadable constraints');
    }
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw unknownConstraint(row.name, 'unreadable constraints');
    for (const [key, value] of Object.entries(c)) {
      if (!MACHINE_CONSTRAINT_KEYS.includes(key)) throw unknownConstraint(row.name, `the constraint ${JSON.stringify(key.slice(0, 40))}`);
      if (key === 'maxExpiresAt') {
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw unknownConstraint(row.name, 'an unreadable maxExpiresAt');
        out.maxExpiresAt = value;
      }
    }
  }
  return out;
}

/**
 * Checks IP, country and time-window guardrails for one request from `ip` at `nowMs`.
 * Returns the first refusal, or undefined when every guardrail allows it.
 */
export function evaluateGuards(g: Guards, ip: string, nowMs: number, geoip: GeoIpLookup | undefined): GuardRefusal | undefined {
  if (g.ipAllowlist && !matchesCidr(g.ipAllowlist.list, ip)) {
    return { rule: 'ip', message: `the source address ${ip} is outside the IP allowlist (${g.ipAllowlist.cidrs.join(', ')})` };
  }
  if (g.countries) {
    if (!geoip) {
      return { rule: 'country', message: 'a country allowlist is set but this vault has no GeoIP database: start sikkerkey-vault serve with --geoip-db FILE' };
    }
    const country = geoip.countryOf(ip);
    if (country === undefined) {
      return { rule: 'country', message: `the source address ${ip} has no country in the GeoIP database (private and loopback addresses have none); the country allowlist refuses it` };
    }
    if (!g.countries.has(country)) {
      return { rule: 'country', message: `requests from ${country} are outside the country allowlist (${[...g.countries].join(', ')})` };
    }
  }
  if (g.window && !isInsideWindow(g.window, nowMs)) {
    return { rule: 'window', message: `the request is outside the time window ${g.window.text}` };
  }
  return undefined;
}

export type MachineConstraintCheck = (machine: MachineConstraintRow, sourceIp: string) => Promise<void>;

export interface MachineConstraintCheckOptions {
  now: () => number;
  /** --geoip-db; without it a country allowlist refuses every request. */
  geoip?: GeoIpLookup;
  /** When given, refusals are audited (at most once a minute per machine and rule). */
  ctx?: VaultContext;
}

/**
 * Builds the check the auth hook runs for every machine request. Parsed guardrails are cached
 * per distinct column text, so a machine with guardrails costs a map lookup per request.
 */
export function createMachineConstraintCheck(opts: MachineConstraintCheckOptions): MachineConstraintCheck {
  const parsed = new Map<string, ParsedMachine | SikkerKeyError>();
  const lastAudit = new Map<string, number>();

  const parse = (row: MachineConstraintRow): ParsedMachine => {
    const key = JSON.stringify([row.name, row.ip_allowlist, row.country_allowlist, row.time_window, row.constraints]);
    let p = parsed.get(key);
    if (p === undefined) {
      try {
        p = parseMachine(row);
      } catch (err) {
        if (!(err instanceof SikkerKeyError)) throw err;
        p = err;
      }
      if (parsed.size > 10_000) parsed.clear();
      parsed.set(key, p);
    }
    if (p instanceof SikkerKeyError) throw new SikkerKeyError(p.code, p.message, { ...(p.details ? { details: { ...p.details } } : {}) });
    return p;
  };

  const refuse = async (row: MachineConstraintRow, ip: string, err: SikkerKeyError, rule: string): Promise<never> => {
    const ctx = opts.ctx;
    if (ctx) {
      const key = `${row.id}:${rule}`;
      const now = opts.now();
      // A refused agent retries; one audit event a minute per machine and rule says enough.
      if ((lastAudit.get(key) ?? -Infinity) + 60_000 <= now) {
        if (lastAudit.size > 10_000) lastAudit.clear();
        lastAudit.set(key, now);
        try {
          await writeTx(ctx, (_trx, audit) => audit({
            action: 'machine.constraint', actorKind: 'machine', actorId: row.id, actorName: row.name, sourceIp: ip, target: `machine:${row.name}`,
            outcome: 'denied', details: { machineId: row.id, rule, code: err.code },
          }));
        } catch (auditErr) {
          ctx.log.error({ err: auditErr instanceof Error ? auditErr.message : String(auditErr) }, 'could not record a refused machine request');
        }
      }
    }
    throw err;
  };

  return async (row, ip) => {
    // Most machines carry no guardrail: keep their per-request cost at four null checks.
    if (row.ip_allowlist === null && row.country_allowlist === null && row.time_window === null && row.constraints === null) {
      if (row.expires_at !== null && row.expires_at <= opts.now()) throw new SikkerKeyError('SK_ERR_MACHINE_EXPIRED', 'this machine\'s lifetime has ended');
      return;
    }
    let p: ParsedMachine;
    try {
      p = parse(row);
    } catch (err) {
      if (err instanceof SikkerKeyError) return refuse(row, ip, err, 'unknown');
      throw err;
    }
    const now = opts.now();
    if ((row.expires_at !== null && row.expires_at <= now) || (p.maxExpiresAt !== undefined && p.maxExpiresAt <= now)) {
      throw new SikkerKeyError('SK_ERR_MACHINE_EXPIRED', 'this machine\'s lifetime has ended');
    }
    const refusal = evaluateGuards(p, ip, now, opts.geoip);
    if (refusal) {
      return refuse(row, ip, new SikkerKeyError('SK_ERR_MACHINE_CONSTRAINT', `machine ${row.name}: ${refusal.message}`, { details: { rule: refusal.rule } }), refusal.rule);
    }
  };
}

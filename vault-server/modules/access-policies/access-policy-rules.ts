/**
 * An access policy as the read path uses it: parsed once from its row (and cached with it), and
 * the axes that need no store — `ttl.expiresAt`, `timeWindow`, `ipAllowlist` — evaluated against
 * a clock and a client address the caller passes in, so daylight-saving cases are unit tests with
 * an injected time. The counted axes (maxReads, rateCap, coSign, rotateAfterReads) need the
 * read's transaction: access-policy-enforce.ts.
 *
 * The time window and CIDR syntax are the machine guardrails' own (machine-time-window.ts,
 * machine-constraints.ts parseIpAllowlist), so an operator learns one syntax for both.
 *
 * @example
 *   const p = parsePolicyRow(row);
 *   const refusal = staticRefusal(p, { ip: '10.1.2.3', nowMs: Date.now() }); // undefined = allowed so far
 */
import type { BlockList } from 'node:net';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { ErrorCode } from '../../../protocol/errors.js';
import { matchesCidr } from '../../http/auth-guard.js';
import { parseIpAllowlist } from '../machines/machine-constraints.js';
import { isInsideWindow, parseTimeWindow } from '../machines/machine-time-window.js';
import type { TimeWindow } from '../machines/machine-time-window.js';

/** The axis that refused a read: `details.policy` of its audit event and error, the metric's label. */
export type PolicyAxis = 'ttl' | 'timeWindow' | 'ipAllowlist' | 'rateCap' | 'coSign';

/** What a policy row carries (access_policies, migration 0013). */
export interface PolicyRow {
  id: string;
  name: string;
  time_window: string | null;
  ip_allowlist: string | null;
  max_reads_per_minute: number | null;
  max_reads_per_day: number | null;
  cosign_window_ms: number | null;
  cosign_machine_id: string | null;
  expires_at: number | null;
  max_reads: number | null;
  rotate_after_reads: number | null;
}

export interface ParsedPolicy {
  id: string;
  name: string;
  window?: TimeWindow;
  ip?: { cidrs: string[]; list: BlockList };
  perMinute?: number;
  perDay?: number;
  coSign?: { windowMs: number; machineId: string | null };
  expiresAt?: number;
  maxReads?: number;
  rotateAfterReads?: number;
  /** Whether a read must take the secret's counter row (any counted axis). */
  counted: boolean;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/**
 * Parses a stored policy. A row this vault cannot read refuses every read of the secrets bound to
 * it (fail closed, like an unknown machine constraint): SK_ERR_CONSTRAINT_UNKNOWN.
 */
export function parsePolicyRow(row: PolicyRow): ParsedPolicy {
  const p: ParsedPolicy = { id: row.id, name: row.name, counted: false };
  try {
    if (row.time_window !== null) p.window = parseTimeWindow(row.time_window);
    if (row.ip_allowlist !== null) {
      const cidrs: unknown = JSON.parse(row.ip_allowlist);
      if (!Array.isArray(cidrs) || cidrs.some((c) => typeof c !== 'string')) throw new Error('not a list of CIDRs');
      p.ip = parseIpAllowlist(cidrs as string[], 'ipAllowlist');
    }
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_CONSTRAINT_UNKNOWN', `access policy ${row.name} carries a rule this vault cannot read (${err instanceof Error ? err.message : 'unreadable'}); reads are refused (fail closed)`);
  }
  if (row.max_reads_per_minute !== null) p.perMinute = row.max_reads_per_minute;
  if (row.max_reads_per_day !== null) p.perDay = row.max_reads_per_day;
  if (row.cosign_window_ms !== null) p.coSign = { windowMs: row.cosign_window_ms, machineId: row.cosign_machine_id };
  if (row.expires_at !== null) p.expiresAt = row.expires_at;
  if (row.max_reads !== null) p.maxReads = row.max_reads;
  if (row.rotate_after_reads !== null) p.rotateAfterReads = row.rotate_after_reads;
  p.counted = p.perMinute !== undefined || p.perDay !== undefined || p.coSign !== undefined || p.maxReads !== undefined || p.rotateAfterReads !== undefined;
  return p;
}

const CODES: Record<PolicyAxis, ErrorCode> = {
  ttl: 'SK_ERR_SECRET_EXPIRED', timeWindow: 'SK_ERR_POLICY_TIME_WINDOW', ipAllowlist: 'SK_ERR_POLICY_IP', rateCap: 'SK_ERR_POLICY_RATE', coSign: 'SK_ERR_POLICY_COSIGN',
};

/** The refusal of one axis; `details.policy` names it (and `retryAfter` for a rate cap sets Retry-After). */
export function policyRefusal(axis: PolicyAxis, message: string, extra: Record<string, unknown> = {}): SikkerKeyError {
  return new SikkerKeyError(CODES[axis], message, { details: { policy: axis, ...extra } });
}

/** The axis of a policy refusal, or undefined for any other error. */
export function refusedAxis(err: unknown): PolicyAxis | undefined {
  if (!(err instanceof SikkerKeyError)) return undefined;
  const axis = err.details?.['policy'];
  return typeof axis === 'string' && axis in CODES && CODES[axis as PolicyAxis] === err.code ? axis as PolicyAxis : undefined;
}

/**
 * The axes that need no store, in the order a person would ask them: has it expired, is it the
 * right time, is it the right network. Returns the refusal, or undefined.
 */
export function staticRefusal(p: ParsedPolicy, at: { ip: string; nowMs: number }): SikkerKeyError | undefined {
  if (p.expiresAt !== undefined && at.nowMs >= p.expiresAt) {
    return policyRefusal('ttl', `this secret expired at ${new Date(p.expiresAt).toISOString()} (access policy ${p.name})`);
  }
  if (p.window && !isInsideWindow(p.window, at.nowMs)) {
    return policyRefusal('timeWindow', `access policy ${p.name} allows reads only ${p.window.text}`);
  }
  if (p.ip && !matchesCidr(p.ip.list, at.ip)) {
    return policyRefusal('ipAllowlist', `access policy ${p.name} refuses reads from ${at.ip}`);
  }
  return undefined;
}

/**
 * Seconds until a sliding window of `windowMs` holding reads at `times` (ascending, all inside
 * it) has room for one more under `cap`: when the read that must leave for that leaves. At least 1.
 */
export function secondsUntilRoom(times: readonly number[], cap: number, windowMs: number, nowMs: number): number {
  const leaving = times[Math.max(0, times.length - cap)] ?? nowMs;
  return Math.max(1, Math.ceil((leaving + windowMs - nowMs) / 1000));
}

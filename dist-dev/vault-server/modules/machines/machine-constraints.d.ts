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
import type { VaultContext } from '../../context.js';
import type { GeoIpLookup } from './machine-geoip.js';
import type { TimeWindow } from './machine-time-window.js';
/** Keys a machine's `constraints` JSON may hold; anything else fails closed. */
export declare const MACHINE_CONSTRAINT_KEYS: readonly string[];
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
    ipAllowlist?: {
        cidrs: string[];
        list: BlockList;
    };
    countries?: ReadonlySet<string>;
    window?: TimeWindow;
}
export type GuardRule = 'ip' | 'country' | 'window';
/** Which guardrail refused, and why (in words an operator can act on). */
export interface GuardRefusal {
    rule: GuardRule;
    message: string;
}
/**
 * Parses a CIDR list for an IP guardrail; throws SK_ERR_VALIDATION (operator input) naming the
 * bad entry. A bare address is a /32 (or /128).
 */
export declare function parseIpAllowlist(cidrs: readonly string[], option: string): {
    cidrs: string[];
    list: BlockList;
};
/**
 * Checks IP, country and time-window guardrails for one request from `ip` at `nowMs`.
 * Returns the first refusal, or undefined when every guardrail allows it.
 */
export declare function evaluateGuards(g: Guards, ip: string, nowMs: number, geoip: GeoIpLookup | undefined): GuardRefusal | undefined;
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
export declare function createMachineConstraintCheck(opts: MachineConstraintCheckOptions): MachineConstraintCheck;

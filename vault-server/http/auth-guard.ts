import { BlockList, isIP, isIPv6 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import { peekKeyId } from '../../protocol/signing.js';

/**
 * Most source keys a budget tracks at once. Past it the oldest window is evicted: that key starts
 * over with a fresh budget. So an attacker holding more keys than this (IPv4 addresses, or IPv6
 * /64s: a /44 holds a million) can cycle through them and get `limit` failures per key each time
 * it has pushed this many others through, instead of per window. The cap is what keeps memory and
 * the work per failure bounded; the budget only slows cheap failures, it never lets a request
 * through without a valid signature.
 */
export const MAX_BUDGET_KEYS = 100_000;

/**
 * A map of per-key entries that expire, bounded for keys an attacker chooses: the expired entries
 * are dropped at most once a window (a scan per new key would cost the whole map each time while
 * nothing has expired), and past `maxKeys` the oldest entry is evicted (see MAX_BUDGET_KEYS).
 * Entries stay in the order they were set, oldest first: setting a key again moves it to the back.
 */
export class BoundedExpiringMap<V> {
  private readonly entries = new Map<string, V>();
  /** Stays just before the oldest key: a fresh iterator would step over every deleted slot again. */
  private oldest: Iterator<string>;
  private lastPrune: number;

  constructor(private readonly opts: { now: () => number; windowMs: number; maxKeys: number; expired: (value: V, now: number) => boolean }) {
    this.oldest = this.entries.keys();
    this.lastPrune = opts.now();
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  set(key: string, value: V): void {
    if (!this.entries.delete(key)) {
      const now = this.opts.now();
      if (now - this.lastPrune >= this.opts.windowMs || now < this.lastPrune) {
        this.lastPrune = now;
        for (const [k, v] of this.entries) if (this.opts.expired(v, now)) this.entries.delete(k);
      }
      while (this.entries.size >= Math.max(1, this.opts.maxKeys)) this.evictOldest();
    }
    this.entries.set(key, value);
  }

  private evictOldest(): void {
    let next = this.oldest.next();
    // Only an empty map ends the iterator; a new one then sees the keys set since.
    if (next.done) {
      this.oldest = this.entries.keys();
      next = this.oldest.next();
    }
    if (!next.done) this.entries.delete(next.value);
  }
}

/**
 * A budget of failed authentications per source address, in fixed windows. Counting only
 * failures keeps a busy, well-behaved client unaffected.
 */
export class FailureBudget implements BudgetLike {
  /** In order of window start, oldest first: a key whose window restarts moves to the back. */
  private readonly windows: BoundedExpiringMap<{ start: number; failures: number }>;

  constructor(private readonly opts: { limit: number; windowMs: number; now: () => number; maxKeys?: number }) {
    this.windows = new BoundedExpiringMap({
      now: opts.now, windowMs: opts.windowMs, maxKeys: opts.maxKeys ?? MAX_BUDGET_KEYS, expired: (w, now) => now - w.start >= opts.windowMs,
    });
  }

  /** Source keys tracked now (at most `maxKeys`). */
  get size(): number {
    return this.windows.size;
  }

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const now = this.opts.now();
    if (now - w.start >= this.opts.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w.failures >= this.opts.limit ? Math.ceil((w.start + this.opts.windowMs - now) / 1000) : 0;
  }

  fail(key: string): void {
    const now = this.opts.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) {
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
    }
    w.failures += 1;
  }
}

/** What the guard asks of a budget: FailureBudget, or a mirror of one kept elsewhere (cluster/shared-budget.ts). */
export interface BudgetLike {
  fail(key: string): void;
  retryAfter(key: string): number;
}

export const DEFAULT_FAILURE_LIMIT = 20;
export const DEFAULT_FAILURE_WINDOW_MS = 60_000;

export interface AuthGuardOptions {
  /** Failed authentications allowed per source address in each window (default 20 a minute). */
  failureLimit?: number;
  windowMs?: number;
  /** Vault-wide source allowlist (CIDRs); empty = any address. Health checks are exempt. */
  allowCidrs?: readonly string[];
  now?: () => number;
  /** The budget to use instead of one of this process's own (several workers share one). */
  budget?: BudgetLike;
}

export function parseCidrList(cidrs: readonly string[], option: string): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [addr, bits, extra] = cidr.split('/');
    const family = isIP(addr ?? '');
    // Digits only: Number('') is 0, so "10.0.0.0/" would have allowed every address.
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(bits) && extra === undefined ? Number(bits) : NaN;
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new SikkerKeyError('SK_ERR_CONFIG', `${option} ${JSON.stringify(cidr)} is not a CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)`);
    }
    list.addSubnet(addr as string, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

export function matchesCidr(list: BlockList, ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return list.check(mapped[1] as string, 'ipv4');
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** The eight 16-bit groups of an address `isIPv6` accepted (`::`, a dotted IPv4 tail, a zone). */
function ipv6Groups(ip: string): number[] {
  let text = ip.split('%', 1)[0] as string;
  const tail: number[] = [];
  const last = text.lastIndexOf(':');
  if (text.includes('.', last)) {
    const [a, b, c, d] = text.slice(last + 1).split('.').map(Number) as [number, number, number, number];
    tail.push(a * 256 + b, c * 256 + d);
    // keep `::` whole: `::1.2.3.4` is all zeros before the IPv4 part
    text = text.slice(0, text.endsWith('::', last + 1) ? last + 1 : last);
  }
  const hex = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const gap = text.indexOf('::');
  if (gap === -1) return [...hex(text), ...tail];
  const head = hex(text.slice(0, gap));
  const rest = [...hex(text.slice(gap + 2)), ...tail];
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

/**
 * The budget key of a source address. An IPv6 host is usually given a whole /64 and can take a
 * new address from it for every request, so IPv6 counts per /64. IPv4, and IPv4 on a dual-stack
 * socket (::ffff:a.b.c.d), count per address.
 */
export function budgetKey(ip: string): string {
  if (!isIPv6(ip)) return `ip:${ip}`;
  const g = ipv6Groups(ip);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const [hi, lo] = [g[6] as number, g[7] as number];
    return `ip:::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `ip:${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/**
 * The per-address failure budget, shared with routes that authenticate on their own (enrollment).
 * It never names a key id: a budget keyed on the *claimed* key id would let anyone lock any
 * identity out without its key.
 */
export interface AuthGuard {
  recordFailure(ip: string): void;
  /** Seconds until this address's budget refills (0: it is not spent). */
  retryAfter(ip: string): number;
}

export function rateLimited(wait: number): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_RATE_LIMITED', 'too many failed authentications from this address; slow down', { details: { retryAfter: wait } });
}

/** Methods whose requests never carry a body in this API: its bytes would be covered by nothing. */
const BODILESS = new Set(['GET', 'HEAD', 'DELETE']);

/**
 * A body announced by the framing headers (HTTP/1.1: Content-Length or Transfer-Encoding is the
 * only way a request has one). fastify never reads a GET or HEAD body, so it must be refused here,
 * from the headers, before it could be silently ignored.
 */
function announcesBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const SIGNATURE_HEADERS = ['signature-input', 'signature', 'content-digest'] as const;

/**
 * Cheap checks before any signature work (onRequest: the body is not even read yet): the
 * vault-wide allowlist, a body on a bodiless method, and — for an address whose failure budget is
 * spent — requests that cannot be authentic without any cryptography (no signature headers, or a
 * Signature-Input with no readable key id). Everything else from such an address goes on to the
 * authenticator, which answers the remaining cheap failures (unknown key id, stale, digest
 * mismatch) 429 for that address and verifies every well-formed request naming a known key.
 */
export function installAuthGuard(app: FastifyInstance, opts: AuthGuardOptions = {}): AuthGuard {
  const now = opts.now ?? Date.now;
  const budget = opts.budget ?? new FailureBudget({ limit: opts.failureLimit ?? DEFAULT_FAILURE_LIMIT, windowMs: opts.windowMs ?? DEFAULT_FAILURE_WINDOW_MS, now });
  const allow = opts.allowCidrs && opts.allowCidrs.length > 0 ? parseCidrList(opts.allowCidrs, '--allow-cidr') : undefined;

  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config?.auth;
    if (auth === 'none' && (request.url === '/healthz' || request.url === '/readyz')) return;
    if (allow && !matchesCidr(allow, request.ip)) {
      throw new SikkerKeyError('SK_ERR_IP_NOT_ALLOWED', 'this address may not reach the vault');
    }
    if (BODILESS.has(request.method) && announcesBody(request.headers)) {
      throw new SikkerKeyError('SK_ERR_BODY_UNEXPECTED', `a ${request.method} request must not carry a body: no signature covers its bytes`);
    }
    if (auth === undefined || auth === 'none') return;
    const wait = budget.retryAfter(budgetKey(request.ip));
    if (wait > 0 && (SIGNATURE_HEADERS.some((h) => request.headers[h] === undefined) || peekKeyId(request.headers) === undefined)) {
      throw rateLimited(wait);
    }
  });

  return {
    recordFailure(ip) {
      budget.fail(budgetKey(ip));
    },
    retryAfter(ip) {
      return budget.retryAfter(budgetKey(ip));
    },
  };
}

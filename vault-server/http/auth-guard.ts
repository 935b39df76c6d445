import { BlockList, isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import { peekKeyId } from '../../protocol/signing.js';

/**
 * A budget of failed authentications per key (a source address, or a key id), in fixed windows.
 * Counting only failures keeps a busy, well-behaved machine unaffected; an attacker who exhausts
 * the budget is answered 429 before the vault spends anything on a signature.
 */
export class FailureBudget {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly opts: { limit: number; windowMs: number; now: () => number }) {}

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
      if (this.windows.size > 100_000) this.prune(now);
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
    }
    w.failures += 1;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.opts.windowMs) this.windows.delete(k);
  }
}

export interface AuthGuardOptions {
  /** Failed authentications allowed per address and per key id in each window (default 20 a minute). */
  failureLimit?: number;
  windowMs?: number;
  /** Vault-wide source allowlist (CIDRs); empty = any address. Health checks are exempt. */
  allowCidrs?: readonly string[];
  now?: () => number;
}

export function parseCidrList(cidrs: readonly string[], option: string): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [addr, bits] = cidr.split('/');
    const family = isIP(addr ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
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

/** Shared failure budgets: routes that authenticate on their own (enrollment) use them too. */
export interface AuthGuard {
  recordFailure(ip: string, keyId: string | undefined): void;
  /** Seconds until this address / key id may try again (0: now). */
  retryAfter(ip: string, keyId: string | undefined): number;
}

/**
 * Cheap checks before any signature work (onRequest: the body is not even read yet): the
 * vault-wide allowlist, then the failure budgets of the source address and the claimed key id.
 * Returns the hook the authenticator calls on each 401.
 */
export function installAuthGuard(app: FastifyInstance, opts: AuthGuardOptions = {}): AuthGuard {
  const now = opts.now ?? Date.now;
  const budget = new FailureBudget({ limit: opts.failureLimit ?? 20, windowMs: opts.windowMs ?? 60_000, now });
  const allow = opts.allowCidrs && opts.allowCidrs.length > 0 ? parseCidrList(opts.allowCidrs, '--allow-cidr') : undefined;

  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config?.auth;
    if (auth === 'none' && (request.url === '/healthz' || request.url === '/readyz')) return;
    if (allow && !matchesCidr(allow, request.ip)) {
      throw new SikkerKeyError('SK_ERR_IP_NOT_ALLOWED', 'this address may not reach the vault');
    }
    if (auth === undefined || auth === 'none') return;
    const keyId = peekKeyId(request.headers);
    const wait = Math.max(budget.retryAfter(`ip:${request.ip}`), keyId ? budget.retryAfter(`key:${keyId}`) : 0);
    if (wait > 0) {
      throw new SikkerKeyError('SK_ERR_RATE_LIMITED', 'too many failed authentications; slow down', { details: { retryAfter: wait } });
    }
  });

  return {
    recordFailure(ip, keyId) {
      budget.fail(`ip:${ip}`);
      if (keyId) budget.fail(`key:${keyId}`);
    },
    retryAfter(ip, keyId) {
      return Math.max(budget.retryAfter(`ip:${ip}`), keyId ? budget.retryAfter(`key:${keyId}`) : 0);
    },
  };
}

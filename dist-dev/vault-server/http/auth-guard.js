import { BlockList, isIP } from 'node:net';
import { SikkerKeyError } from '../../protocol/errors.js';
import { peekKeyId } from '../../protocol/signing.js';
/**
 * A budget of failed authentications per source address, in fixed windows. Counting only
 * failures keeps a busy, well-behaved client unaffected.
 */
export class FailureBudget {
    opts;
    windows = new Map();
    constructor(opts) {
        this.opts = opts;
    }
    /** Seconds until `key` may try again, or 0 when it may now. */
    retryAfter(key) {
        const w = this.windows.get(key);
        if (!w)
            return 0;
        const now = this.opts.now();
        if (now - w.start >= this.opts.windowMs) {
            this.windows.delete(key);
            return 0;
        }
        return w.failures >= this.opts.limit ? Math.ceil((w.start + this.opts.windowMs - now) / 1000) : 0;
    }
    fail(key) {
        const now = this.opts.now();
        let w = this.windows.get(key);
        if (!w || now - w.start >= this.opts.windowMs) {
            if (this.windows.size > 100_000)
                this.prune(now);
            w = { start: now, failures: 0 };
            this.windows.set(key, w);
        }
        w.failures += 1;
    }
    prune(now) {
        for (const [k, w] of this.windows)
            if (now - w.start >= this.opts.windowMs)
                this.windows.delete(k);
    }
}
export const DEFAULT_FAILURE_LIMIT = 20;
export const DEFAULT_FAILURE_WINDOW_MS = 60_000;
export function parseCidrList(cidrs, option) {
    const list = new BlockList();
    for (const cidr of cidrs) {
        const [addr, bits] = cidr.split('/');
        const family = isIP(addr ?? '');
        const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
        if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
            throw new SikkerKeyError('SK_ERR_CONFIG', `${option} ${JSON.stringify(cidr)} is not a CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)`);
        }
        list.addSubnet(addr, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
    return list;
}
export function matchesCidr(list, ip) {
    const family = isIP(ip);
    if (family === 0)
        return false;
    // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped)
        return list.check(mapped[1], 'ipv4');
    return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}
export function rateLimited(wait) {
    return new SikkerKeyError('SK_ERR_RATE_LIMITED', 'too many failed authentications from this address; slow down', { details: { retryAfter: wait } });
}
/** Methods whose requests never carry a body in this API: its bytes would be covered by nothing. */
const BODILESS = new Set(['GET', 'HEAD', 'DELETE']);
/**
 * A body announced by the framing headers (HTTP/1.1: Content-Length or Transfer-Encoding is the
 * only way a request has one). fastify never reads a GET or HEAD body, so it must be refused here,
 * from the headers, before it could be silently ignored.
 */
function announcesBody(headers) {
    const length = headers['content-length'];
    return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
const SIGNATURE_HEADERS = ['signature-input', 'signature', 'content-digest'];
/**
 * Cheap checks before any signature work (onRequest: the body is not even read yet): the
 * vault-wide allowlist, a body on a bodiless method, and — for an address whose failure budget is
 * spent — requests that cannot be authentic without any cryptography (no signature headers, or a
 * Signature-Input with no readable key id). Everything else from such an address goes on to the
 * authenticator, which answers the remaining cheap failures (unknown key id, stale, digest
 * mismatch) 429 for that address and verifies every well-formed request naming a known key.
 */
export function installAuthGuard(app, opts = {}) {
    const now = opts.now ?? Date.now;
    const budget = opts.budget ?? new FailureBudget({ limit: opts.failureLimit ?? DEFAULT_FAILURE_LIMIT, windowMs: opts.windowMs ?? DEFAULT_FAILURE_WINDOW_MS, now });
    const allow = opts.allowCidrs && opts.allowCidrs.length > 0 ? parseCidrList(opts.allowCidrs, '--allow-cidr') : undefined;
    app.addHook('onRequest', async (request) => {
        const auth = request.routeOptions.config?.auth;
        if (auth === 'none' && (request.url === '/healthz' || request.url === '/readyz'))
            return;
        if (allow && !matchesCidr(allow, request.ip)) {
            throw new SikkerKeyError('SK_ERR_IP_NOT_ALLOWED', 'this address may not reach the vault');
        }
        if (BODILESS.has(request.method) && announcesBody(request.headers)) {
            throw new SikkerKeyError('SK_ERR_BODY_UNEXPECTED', `a ${request.method} request must not carry a body: no signature covers its bytes`);
        }
        if (auth === undefined || auth === 'none')
            return;
        const wait = budget.retryAfter(`ip:${request.ip}`);
        if (wait > 0 && (SIGNATURE_HEADERS.some((h) => request.headers[h] === undefined) || peekKeyId(request.headers) === undefined)) {
            throw rateLimited(wait);
        }
    });
    return {
        recordFailure(ip) {
            budget.fail(`ip:${ip}`);
        },
        retryAfter(ip) {
            return budget.retryAfter(`ip:${ip}`);
        },
    };
}
//# sourceMappingURL=auth-guard.js.map
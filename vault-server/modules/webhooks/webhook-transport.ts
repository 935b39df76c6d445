/**
 * The SSRF-safe transport of webhook deliveries. A webhook URL is chosen by an operator, but the
 * vault is the one connecting — from inside the network it runs in, next to cloud metadata
 * services, databases and admin ports. So a target is resolved first and refused if ANY address it
 * resolves to is not public (loopback, RFC 1918, link-local, CGNAT, metadata, reserved, multicast,
 * and the IPv6 forms that carry one of those inside: mapped, compatible, 6to4, NAT64, Teredo);
 * then the connection goes to the address that was checked — never a second lookup, which a
 * rebinding DNS server could answer differently — and a redirect is never followed (it would be a
 * target nobody checked). Private targets are possible only inside the operator's
 * `--webhook-allow-cidr` ranges, and plain `http:` only there too.
 *
 * @example
 *   const policy = { allowCidrs: config.webhookAllowCidr };
 *   await checkWebhookTarget('https://hooks.example.com/sikkerkey', policy); // at registration
 *   const r = await sendWebhook(url, { headers: { 'webhook-id': id, … }, body }, policy);
 *   if (!r.ok) retryLater(r.error); // r.error never holds the body or a header
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { parseCidrList } from '../../http/auth-guard.js';
import { packageVersion } from '../../http/openapi.js';

export interface TargetPolicy {
  /** --webhook-allow-cidr: private targets allowed only inside these. */
  allowCidrs: readonly string[];
  /** DNS resolution (tests inject a stub; default dns.promises.lookup with all: true, verbatim). */
  resolve?: (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;
  /** Test hook: called with every address a connection is about to be opened to. */
  onConnect?: (address: string, port: number) => void;
}

export interface CheckedTarget { url: URL; address: string; family: 4 | 6; port: number }

export interface WebhookSendResult {
  /** A 2xx answer arrived. */
  ok: boolean;
  /** The HTTP status, or null when no answer arrived (refused target, connection error, timeout). */
  status: number | null;
  latencyMs: number;
  /** Why it failed, for the delivery log: never the body or a header (they carry signatures). */
  error: string | null;
}

/** Connect and the whole request together, unless the caller gives another. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Of a receiver's answer at most this much is read; the rest is dropped with the connection. */
export const MAX_RESPONSE_BYTES = 4096;

const forbidden = (why: string): SikkerKeyError => new SikkerKeyError('SK_ERR_WEBHOOK_TARGET_FORBIDDEN', why);

// -- which addresses are not public ------------------------------------------------------------

/** [cidr, why]: the why goes into the refusal so an operator sees which rule matched. */
const BLOCKED_V4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.169.254', 32, 'the cloud metadata service'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'reserved (IETF protocol assignments)'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'reserved (6to4 relay anycast)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];

const BLOCKED_V6: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fd00:ec2::254', 128, 'the cloud metadata service (EC2, IPv6)'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated, private)'],
  ['ff00::', 8, 'multicast'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['2001:10::', 28, 'reserved (ORCHID)'],
  ['2001:20::', 28, 'reserved (ORCHIDv2)'],
  // Local-use NAT64 (RFC 8215): the translator is inside someone's own network, and the prefix
  // length (so where the IPv4 address sits) is theirs to choose: refused as a whole.
  ['64:ff9b:1::', 48, 'local-use NAT64 (RFC 8215)'],
];

function blockListOf(rules: ReadonlyArray<readonly [string, number, string]>, family: 'ipv4' | 'ipv6'): Array<{ list: BlockList; why: string }> {
  return rules.map(([net, prefix, why]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    return { list, why };
  });
}

const V4_RULES = blockListOf(BLOCKED_V4, 'ipv4');
const V6_RULES = blockListOf(BLOCKED_V6, 'ipv6');

/** The 16 bytes of a textual IPv6 address (already validated by net.isIP). */
function v6Bytes(address: string): Uint8Array {
  let text = address;
  const bytes = new Uint8Array(16);
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  return bytes;
}

const v4At = (b: Uint8Array, i: number, xor = 0): string =>
  [0, 1, 2, 3].map((k) => ((b[i + k] as number) ^ xor).toString()).join('.');

/**
 * The IPv4 addresses an IPv6 address carries and would reach: traffic to these forms is
 * translated or tunnelled to the embedded IPv4 address, so they are only as public as it is.
 */
function embeddedV4(address: string): Array<{ v4: string; form: string }> {
  const b = v6Bytes(address);
  const zero = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  const out: Array<{ v4: string; form: string }> = [];
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) out.push({ v4: v4At(b, 12), form: 'IPv4-mapped' });
  // ::ffff:0:a.b.c.d, "IPv4-translated" (RFC 2765 SIIT).
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) out.push({ v4: v4At(b, 12), form: 'IPv4-translated' });
  // ::a.b.c.d (deprecated); :: and ::1 themselves are caught by their own rules.
  if (zero(0, 12) && !zero(12, 14)) out.push({ v4: v4At(b, 12), form: 'IPv4-compatible' });
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) out.push({ v4: v4At(b, 12), form: 'NAT64 (64:ff9b::/96)' });
  if (b[0] === 0x20 && b[1] === 0x02) out.push({ v4: v4At(b, 2), form: '6to4 (2002::/16)' });
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) {
    // Teredo: the server's address in clear, the client's (where traffic ends up) inverted.
    out.push({ v4: v4At(b, 4), form: 'Teredo server' });
    out.push({ v4: v4At(b, 12, 0xff), form: 'Teredo client' });
  }
  return out;
}

/** Why `address` is not public, or undefined when it is. */
export function blockedReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return V4_RULES.find((r) => r.list.check(address, 'ipv4'))?.why;
  if (family !== 6) return 'not an IP address';
  // fe80::1%eth0: an interface-scoped address is local to this host's links by definition.
  if (address.includes('%')) return 'scoped to a local interface';
  const own = V6_RULES.find((r) => r.list.check(address, 'ipv6'));
  if (own) return own.why;
  for (const { v4, form } of embeddedV4(address)) {
    const why = V4_RULES.find((r) => r.list.check(v4, 'ipv4'))?.why;
    if (why !== undefined) return `${form} form of ${v4}, ${why}`;
  }
  return undefined;
}

/** Whether `address` lies inside the operator's allowlist (an IPv4-mapped address also by its IPv4). */
function allowed(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return list.check(address, 'ipv4');
  if (family !== 6) return false;
  if (list.check(address, 'ipv6')) return true;
  // Only the mapped form reaches exactly its IPv4 address; a 6to4 or NAT64 form goes through a
  // translator first, so an allowlisted IPv4 does not make it allowed.
  const mapped = embeddedV4(address).find((e) => e.form === 'IPv4-mapped');
  return mapped !== undefined && list.check(mapped.v4, 'ipv4');
}

// -- checking a target -------------------------------------------------------------------------

async function defaultResolve(hostname: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

const allowListCache = new WeakMap<readonly string[], BlockList>();

function allowListOf(cidrs: readonly string[]): BlockList {
  let list = allowListCache.get(cidrs);
  if (!list) {
    list = parseCidrList(cidrs, '--webhook-allow-cidr');
    allowListCache.set(cidrs, list);
  }
  return list;
}

/**
 * Parses and resolves; throws SikkerKeyError SK_ERR_WEBHOOK_TARGET_FORBIDDEN naming why, never
 * connecting. Every resolved address must be public or inside `allowCidrs`; plain `http:` needs
 * every one inside `allowCidrs`. The first address is the one to connect to.
 */
export async function checkWebhookTarget(url: string, policy: TargetPolicy): Promise<CheckedTarget> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw forbidden('the webhook URL is not a URL (https://hooks.example.com/path)');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw forbidden(`a webhook URL is https:// (not ${parsed.protocol})`);
  // Credentials in a URL end up in logs and listings; a receiver authenticates by the signature.
  if (parsed.username !== '' || parsed.password !== '') throw forbidden('a webhook URL must not hold a user name or password');
  const allow = allowListOf(policy.allowCidrs);
  // WHATWG URL has already turned 0x7f.1, 2130706433 and 017700000001 into 127.0.0.1, and
  // brackets IPv6: what is left is either an IP address or a name to resolve.
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  let addresses: Array<{ address: string; family: 4 | 6 }>;
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (policy.resolve ?? defaultResolve)(host);
    } catch (err) {
      throw forbidden(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
    }
    if (addresses.length === 0) throw forbidden(`${host} resolves to no address`);
  }
  for (const { address } of addresses) {
    if (isIP(address) === 0) throw forbidden(`${host} resolves to ${JSON.stringify(address)}, which is not an IP address`);
    const why = blockedReason(address);
    if (why !== undefined && !allowed(allow, address)) {
      throw forbidden(`${literal !== 0 ? host : `${host} resolves to ${address}, which`} is not a public address (${why}); private targets need --webhook-allow-cidr`);
    }
  }
  if (parsed.protocol === 'http:' && !addresses.every((a) => allowed(allow, a.address))) {
    throw forbidden(`plain http:// is only for targets inside --webhook-allow-cidr: use https`);
  }
  const first = addresses[0] as { address: string; family: 4 | 6 };
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return { url: parsed, address: first.address, family: first.family, port };
}

// -- sending -----------------------------------------------------------------------------------

let userAgent: string | undefined;

/**
 * Re-checks (resolution at send time), connects to the checked address only, POSTs. No redirects
 * (a 3xx is a failed attempt). Never throws: a refused target is `{ ok: false, error:
 * 'SK_ERR_WEBHOOK_TARGET_FORBIDDEN: …' }`.
 */
export async function sendWebhook(
  url: string,
  req: { headers: Record<string, string>; body: string; timeoutMs?: number },
  policy: TargetPolicy,
): Promise<WebhookSendResult> {
  const started = performance.now();
  const latency = (): number => Math.round(performance.now() - started);
  let target: CheckedTarget;
  try {
    // The registration-time check proves nothing now: DNS may answer differently (rebinding).
    target = await checkWebhookTarget(url, policy);
  } catch (err) {
    const e = err as SikkerKeyError;
    return { ok: false, status: null, latencyMs: latency(), error: `${e.code ?? 'SK_ERR_WEBHOOK_TARGET_FORBIDDEN'}: ${e.message}` };
  }
  const timeoutMs = req.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  userAgent ??= `SikkerKey-Webhooks/${packageVersion()}`;
  const body = Buffer.from(req.body, 'utf8');
  const { url: u } = target;
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const options: RequestOptions & { servername?: string } = {
    method: 'POST',
    // Connect by address: no lookup happens after the check. The Host header, SNI and certificate
    // check still use the URL's name (an IP-literal URL is verified against its IP, without SNI).
    host: target.address,
    family: target.family,
    port: target.port,
    path: `${u.pathname}${u.search}`,
    // A fresh connection per delivery: a kept-alive socket would carry one target's trust to another.
    agent: false,
    headers: {
      ...req.headers,
      host: u.host,
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': userAgent,
      connection: 'close',
    },
    ...(u.protocol === 'https:' && isIP(hostname) === 0 ? { servername: hostname } : {}),
  };
  policy.onConnect?.(target.address, target.port);

  return await new Promise<WebhookSendResult>((resolve) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const finish = (result: Omit<WebhookSendResult, 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve({ ...result, latencyMs: latency() });
    };
    const timer = setTimeout(() => finish({ ok: false, status: null, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    const onResponse = (res: IncomingMessage): void => {
      const status = res.statusCode ?? null;
      const done = (): void => {
        res.destroy();
        if (status !== null && status >= 300 && status < 400) finish({ ok: false, status, error: `the receiver redirected (${status}); redirects are not followed` });
        else if (status !== null && status >= 200 && status < 300) finish({ ok: true, status, error: null });
        else finish({ ok: false, status, error: `the receiver answered ${status ?? 'without a status'}` });
      };
      // Only a bounded look at the answer: a receiver must not be able to make the vault read forever.
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_RESPONSE_BYTES) done();
      });
      res.on('end', done);
      res.on('error', done);
    };
    try {
      request = (u.protocol === 'https:' ? httpsRequest : httpRequest)(options, onResponse);
    } catch (err) {
      finish({ ok: false, status: null, error: describeError(err) });
      return;
    }
    request.on('error', (err) => finish({ ok: false, status: null, error: describeError(err) }));
    request.end(body);
  });
}

/** A connection error as it may be logged: its code and Node's message (no headers, no body). */
function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e.message ?? err);
}

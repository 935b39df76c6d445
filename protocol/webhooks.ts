/**
 * Webhook signatures (Standard Webhooks): what the vault signs each delivery with and what a
 * receiver checks. A delivery carries
 *   webhook-id:        the delivery's id (the same on every retry: receivers deduplicate on it)
 *   webhook-timestamp: Unix seconds when this attempt was sent
 *   webhook-signature: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, space-separated
 *                      when several secrets are current (during `webhook rotate-secret --overlap`)
 * The key is the base64-decoded part of the secret after `whsec_`. The body is JSON
 * `{"type","timestamp","data"}` and never holds a secret value.
 *
 * @example
 *   // in a receiver, with the raw body bytes as text:
 *   const r = verifyWebhook({ secrets: [process.env.SIKKERKEY_WEBHOOK_SECRET!], headers: req.headers, body: rawBody });
 *   if (!r.ok) return res.writeHead(401).end(r.reason);
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** How far a timestamp may be from the receiver's clock (seconds), as Standard Webhooks recommends. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
  if (key.length < 16) throw new Error('a webhook secret holds at least 16 bytes of key');
  return key;
}

/** One `v1,<base64>` signature of a delivery. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/** The `webhook-signature` header: one signature per current secret, space-separated. */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' ');
}

export type WebhookVerification = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a delivery: the timestamp is within `toleranceSeconds` of `now` (Unix seconds), and one
 * of the `v1` signatures matches one of `secrets` (compared in constant time). `body` must be the
 * raw body exactly as received: parse JSON only after this succeeds.
 */
export function verifyWebhook(opts: { secrets: readonly string[]; headers: HeaderBag; body: string; toleranceSeconds?: number; now?: number }): WebhookVerification {
  const id = header(opts.headers, 'webhook-id');
  const ts = header(opts.headers, 'webhook-timestamp');
  const sig = header(opts.headers, 'webhook-signature');
  if (!id || !ts || !sig) return { ok: false, reason: 'webhook-id, webhook-timestamp or webhook-signature is missing' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'webhook-timestamp is not Unix seconds' };
  const timestamp = Number(ts);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return { ok: false, reason: `webhook-timestamp is more than ${tolerance} s from now` };
  const offered = sig.split(' ').filter((s) => s.startsWith('v1,')).map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const secret of opts.secrets) {
    const expected = Buffer.from(signWebhook(secret, id, timestamp, opts.body).slice(3), 'base64');
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) return { ok: true, id, timestamp };
  }
  return { ok: false, reason: 'no signature matches' };
}

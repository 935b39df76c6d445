/**
 * SikkerKey's RFC 9421 request-signing profile in the browser, with WebCrypto: the same covered
 * components, signature parameters and Content-Digest as protocol/signing.ts (which needs
 * node:crypto and Buffer, so it cannot be bundled). The dashboard test verifies a signature made
 * here with the vault's own verifier (`verifyRequest`), and the real vault accepts every request.
 *
 * @example
 *   const headers = await signRequest({ method: 'GET', authority: location.host, target: '/v1/projects' }, { keyId, privateKey });
 */

/** The profile's fixed names and numbers (protocol/signing.ts SIGNATURE_PROFILE). */
export const PROFILE = Object.freeze({
  label: 'sk',
  tag: 'sikkerkey/v1',
  alg: 'ed25519',
  components: ['@method', '@authority', '@path', '@query', 'content-digest'] as const,
  bodyComponent: 'content-type',
  lifetimeSeconds: 30,
  nonceBytes: 32,
});

export interface RequestToSign {
  method: string;
  /** host[:port], as the browser addresses the vault (location.host). */
  authority: string;
  /** Path plus optional `?query`, exactly as sent (percent-encoded). */
  target: string;
  body?: Uint8Array<ArrayBuffer>;
  contentType?: string;
}

export interface BrowserSigner {
  keyId: string;
  /** A non-extractable Ed25519 private CryptoKey. */
  privateKey: CryptoKey;
}

/** Standard base64 (with padding) of bytes: the Structured Fields byte-sequence alphabet. */
export function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** base64url without padding (nonces, key ids, public keys). */
export function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A Structured Fields sf-string: quoted, with `\` and `"` escaped (printable ASCII only). */
function sfString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error('signature parameters must be printable ASCII');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** RFC 9530 Content-Digest of the exact body bytes: `sha-256=:<base64>:`. */
export async function contentDigest(body: Uint8Array<ArrayBuffer>): Promise<string> {
  return `sha-256=:${base64(await sha256(body))}:`;
}

/** The RFC 9421 key id: the RFC 7638 thumbprint of the raw Ed25519 public key (protocol/keys.ts). */
export async function keyIdOf(rawPublicKey: Uint8Array): Promise<string> {
  const jwk = `{"crv":"Ed25519","kty":"OKP","x":"${base64url(rawPublicKey)}"}`;
  return base64url(await sha256(new TextEncoder().encode(jwk)));
}

/**
 * The headers to send with a request: content-digest, signature-input, signature, and
 * content-type when it has a body.
 */
export async function signRequest(req: RequestToSign, key: BrowserSigner, opts: { now?: number; nonce?: string } = {}): Promise<Record<string, string>> {
  const q = req.target.indexOf('?');
  if (!req.target.startsWith('/') || req.target.includes('#')) throw new Error('the request target must be /path[?query]');
  const path = q === -1 ? req.target : req.target.slice(0, q);
  const query = q === -1 ? '?' : `?${req.target.slice(q + 1)}`;
  const body = req.body ?? new Uint8Array(0);
  const hasBody = body.length > 0;
  if (hasBody && !req.contentType) throw new Error('a request with a body needs a content type');
  const digest = await contentDigest(body);
  const covered: Array<[string, string]> = [
    ['@method', req.method],
    ['@authority', req.authority.toLowerCase()],
    ['@path', path],
    ['@query', query],
    ['content-digest', digest],
  ];
  if (hasBody) covered.push([PROFILE.bodyComponent, (req.contentType as string).trim()]);
  const created = opts.now ?? Math.floor(Date.now() / 1000);
  const nonce = opts.nonce ?? base64url(crypto.getRandomValues(new Uint8Array(PROFILE.nonceBytes)));
  const params = `(${covered.map(([n]) => sfString(n)).join(' ')});created=${created};expires=${created + PROFILE.lifetimeSeconds}`
    + `;nonce=${sfString(nonce)};keyid=${sfString(key.keyId)};alg=${sfString(PROFILE.alg)};tag=${sfString(PROFILE.tag)}`;
  const base = [...covered.map(([n, v]) => `${sfString(n)}: ${v}`), `"@signature-params": ${params}`].join('\n');
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, new TextEncoder().encode(base)));
  const headers: Record<string, string> = {
    'content-digest': digest,
    'signature-input': `${PROFILE.label}=${params}`,
    signature: `${PROFILE.label}=:${base64(signature)}:`,
  };
  if (hasBody) headers['content-type'] = (req.contentType as string).trim();
  return headers;
}

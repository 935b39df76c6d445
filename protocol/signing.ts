/**
 * SikkerKey's RFC 9421 (HTTP Message Signatures) profile: one signature, label `sk`, Ed25519,
 * covering `"@method" "@authority" "@path" "@query" "content-digest"` and, when the request has a
 * body, `"content-type"`. docs/protocol.md is the normative description; this file implements it.
 *
 * @example
 *   // client
 *   const headers = signRequest({ method: 'GET', authority: 'vault.example.com', target: '/v1/projects' }, key);
 *   // server
 *   const { keyId } = await verifyRequest({ method, target: req.url, headers: req.headers, body }, {
 *     authority: 'vault.example.com', lookupKey, nonces,
 *   });
 */
import { createHash, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { parseDictionary, serializeDictionary, serializeInnerList, serializeItem } from 'structured-headers';
import type { InnerList, Item, Parameters } from 'structured-headers';
import { SikkerKeyError, isSikkerKeyError } from './errors.js';
import type { ErrorCode } from './errors.js';
import { checkContentDigest, computeContentDigest, parseStrictDictionary, topLevelKeys } from './digest.js';

/** Every fixed number and name of the profile, in one place. */
export const SIGNATURE_PROFILE = Object.freeze({
  /** The one signature label in Signature-Input and Signature. */
  label: 'sk',
  /** Value of the `tag` parameter: names this profile and its version. */
  tag: 'sikkerkey/v1',
  /** The only algorithm; if the `alg` parameter is present it must say this. */
  alg: 'ed25519',
  /** Components every request covers, in the order the signer lists them. */
  components: Object.freeze(['@method', '@authority', '@path', '@query', 'content-digest'] as const),
  /** Covered in addition when the request has a body (non-empty). */
  bodyComponent: 'content-type',
  /** Signature parameters that must be present, and the one that may be. */
  requiredParams: Object.freeze(['created', 'expires', 'nonce', 'keyid', 'tag'] as const),
  optionalParams: Object.freeze(['alg'] as const),
  /** How far `created` may be ahead of the verifier's clock, and how long after `expires` a request is still accepted. */
  maxSkewSeconds: 30,
  /** Largest allowed `expires - created`. */
  maxLifetimeSeconds: 60,
  /** What the signer uses when not told otherwise. */
  defaultLifetimeSeconds: 30,
  /** The nonce is base64url (no padding) of at least this many random bytes … */
  nonceMinBytes: 16,
  /** … and at most this many characters. */
  nonceMaxChars: 128,
  /** The signer's nonce: 32 random bytes (43 characters). */
  nonceDefaultBytes: 32,
  /**
   * A claimed nonce is kept until `expires + nonceRetentionAfterExpiresSeconds`: the 30 s skew
   * window (a request is accepted until `expires + 30`) plus 60 s, so a replica whose clock runs
   * ahead cannot sweep a nonce that another replica still accepts.
   */
  nonceRetentionAfterExpiresSeconds: 90,
  /** Longest key id accepted. */
  keyIdMaxChars: 256,
  /** Longest Signature-Input / Signature header parsed (a real one is ~250 / ~95 characters). */
  maxHeaderChars: 4096,
  /** Ed25519 signatures are exactly this long. */
  signatureBytes: 64,
});

/** A request as the client is about to send it. */
export interface RequestToSign {
  method: string;
  /** host[:port] the request is addressed to (RFC 9421 §2.2.3: lower-case, default port omitted). */
  authority: string;
  /** Raw path plus optional `?query`, exactly as sent on the wire (already percent-encoded). */
  target: string;
  body?: Uint8Array;
  /** Required when `body` is non-empty; covered by the signature. */
  contentType?: string;
}

/** The key a request is signed with. */
export interface SignerKey {
  keyId: string;
  privateKey: KeyObject;
}

/** Finds the public key for a key id; `undefined` when the id is unknown (to this route). */
export type KeyLookup = (keyId: string) => KeyObject | undefined | Promise<KeyObject | undefined>;

/**
 * The shared replay store: claims `(keyId, nonceHash)` atomically, on every replica.
 * `claim` resolves `true` when the pair was not held yet (and holds it until `expiresAtUnix`).
 */
export interface NonceStore {
  claim(keyId: string, nonceHash: string /* hex sha256 of the nonce */, expiresAtUnix: number): Promise<boolean>;
}

/** A received request, as node's http server hands it over (headers lower-cased). */
export interface IncomingRequest {
  method: string;
  /** The raw request target (`req.url`), never decoded. */
  target: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes (empty for a bodiless request). */
  body: Uint8Array;
}

export interface VerifyOptions {
  /** The configured public authority (host[:port]); never taken from Host or forwarded headers. */
  authority: string;
  lookupKey: KeyLookup;
  nonces: NonceStore;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
  /** Verify on libuv's thread pool (crypto.verify's callback form) instead of the main thread. */
  async?: boolean;
  /**
   * Performs the Ed25519 verification itself instead of `async` / the synchronous primitive: the
   * server passes a concurrency-capped verifier. Called only once every check that needs no
   * cryptography has passed and the key id resolved to a key.
   */
  verify?: (key: KeyObject, message: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;
  /**
   * Refuse, as SK_ERR_SIGNATURE_EXPIRED, every signature that may have been made at or before this
   * moment (ms, the verifier's clock). A vault restored from a backup has lost the nonces used
   * since the backup, so it refuses what was signed before the restore instead. A signer's clock
   * may run `maxSkewSeconds` ahead, so only a `created` more than that after the moment proves
   * the request was signed after it.
   */
  signedAfter?: number;
}

/** What a successful verification proves. */
export interface Verified {
  keyId: string;
  created: number;
  expires: number;
  nonce: string;
}

/** A client-supplied name, quoted and cut short, for an error message. */
const quoted = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

function fail(code: ErrorCode, message: string, cause?: unknown): never {
  throw new SikkerKeyError(code, message, cause === undefined ? undefined : { cause });
}

/** True when every character is printable ASCII (0x20–0x7E): no controls, no DEL, nothing wider. */
function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function isBase64urlNonce(nonce: string): boolean {
  if (nonce.length === 0 || nonce.length > SIGNATURE_PROFILE.nonceMaxChars || nonce.length % 4 === 1) return false;
  for (let i = 0; i < nonce.length; i += 1) {
    const c = nonce.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    if (!ok) return false;
  }
  const bytes = Buffer.from(nonce, 'base64url');
  // Canonical only (the unused low bits of the last character are zero), and long enough.
  return bytes.length >= SIGNATURE_PROFILE.nonceMinBytes && bytes.toString('base64url') === nonce;
}

const isToken = (s: string): boolean => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s);

/** Splits an origin-form request target into RFC 9421 `@path` and `@query` (`?` when empty). */
function splitTarget(target: string): { path: string; query: string } | undefined {
  if (!target.startsWith('/') || target.includes('#')) return undefined;
  const q = target.indexOf('?');
  if (q === -1) return { path: target, query: '?' };
  return { path: target.slice(0, q), query: `?${target.slice(q + 1)}` };
}

/** RFC 9421 §2.2.3: the authority is compared and signed in lower case. */
const normalizeAuthority = (a: string): string => a.toLowerCase();

/**
 * The RFC 9421 §2.5 signature base: one line `"<name>": <value>` per covered component, then
 * `"@signature-params": <params>`, joined by `\n`, no trailing newline.
 *
 * @example
 *   buildSignatureBase([['@method', 'GET']], '("@method");created=1');
 *   // '"@method": GET\n"@signature-params": ("@method");created=1'
 */
export function buildSignatureBase(components: Array<[string, string]>, signatureParams: string): string {
  const lines = components.map(([name, value]) => `${serializeItem(name, new Map())}: ${value}`);
  lines.push(`"@signature-params": ${signatureParams}`);
  return lines.join('\n');
}

/**
 * Signs a request: returns the headers to add — `content-digest`, `signature-input`, `signature`,
 * and `content-type` when the request has a body.
 *
 * @example
 *   const body = Buffer.from(JSON.stringify({ value: 'x' }));
 *   const headers = signRequest(
 *     { method: 'POST', authority: 'vault.example.com', target: '/v1/projects/p/secrets/s', body, contentType: 'application/json' },
 *     { keyId, privateKey },
 *   );
 */
export function signRequest(
  req: RequestToSign,
  key: SignerKey,
  opts: { now?: number; nonce?: string; lifetimeSeconds?: number } = {},
): Record<string, string> {
  const method = req.method;
  if (!isToken(method)) fail('SK_ERR_BAD_REQUEST', 'the method is not an HTTP token');
  const authority = normalizeAuthority(req.authority);
  if (authority.length === 0 || !isPrintableAscii(authority)) fail('SK_ERR_SIGNATURE_NON_ASCII', 'the authority must be non-empty printable ASCII');
  if (!isPrintableAscii(req.target) || req.target.includes(' ')) fail('SK_ERR_SIGNATURE_NON_ASCII', 'the request target must be printable ASCII without spaces (percent-encode it)');
  const parts = splitTarget(req.target);
  if (parts === undefined) fail('SK_ERR_BAD_REQUEST', 'the request target must be origin-form: /path[?query]');
  const body = req.body ?? new Uint8Array(0);
  const hasBody = body.length > 0;
  if (hasBody && (req.contentType === undefined || req.contentType.trim() === '')) {
    fail('SK_ERR_BAD_REQUEST', 'a request with a body needs a content type');
  }
  const contentType = hasBody ? (req.contentType as string).trim() : undefined;
  if (contentType !== undefined && !isPrintableAscii(contentType)) fail('SK_ERR_SIGNATURE_NON_ASCII', 'the content type must be printable ASCII');
  if (typeof key.keyId !== 'string' || key.keyId.length === 0 || key.keyId.length > SIGNATURE_PROFILE.keyIdMaxChars || !isPrintableAscii(key.keyId)) {
    fail('SK_ERR_BAD_REQUEST', 'the key id must be 1–256 printable ASCII characters');
  }

  const lifetime = opts.lifetimeSeconds ?? SIGNATURE_PROFILE.defaultLifetimeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > SIGNATURE_PROFILE.maxLifetimeSeconds) {
    fail('SK_ERR_SIGNATURE_LIFETIME', `the signature lifetime must be 1–${SIGNATURE_PROFILE.maxLifetimeSeconds} whole seconds`);
  }
  const created = opts.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(created) || created < 0) fail('SK_ERR_BAD_REQUEST', 'created must be a whole number of seconds');
  const nonce = opts.nonce ?? randomBytes(SIGNATURE_PROFILE.nonceDefaultBytes).toString('base64url');
  if (!isBase64urlNonce(nonce)) fail('SK_ERR_SIGNATURE_NONCE', 'the nonce must be canonical base64url of at least 16 bytes, at most 128 characters');

  const contentDigest = computeContentDigest(body);
  const covered: Array<[string, string]> = [
    ['@method', method],
    ['@authority', authority],
    ['@path', parts.path],
    ['@query', parts.query],
    ['content-digest', contentDigest],
  ];
  if (contentType !== undefined) covered.push(['content-type', contentType]);

  const params: Parameters = new Map<string, string | number>([
    ['created', created],
    ['expires', created + lifetime],
    ['nonce', nonce],
    ['keyid', key.keyId],
    ['alg', SIGNATURE_PROFILE.alg],
    ['tag', SIGNATURE_PROFILE.tag],
  ]);
  const innerList: InnerList = [covered.map(([name]): Item => [name, new Map()]), params];
  const signatureParams = serializeInnerList(innerList);
  const base = buildSignatureBase(covered, signatureParams);
  let signature: Buffer;
  try {
    signature = cryptoSign(null, Buffer.from(base, 'ascii'), key.privateKey);
  } catch (cause) {
    return fail('SK_ERR_KEY_FILE', 'the private key cannot sign (is it an Ed25519 private key?)', cause);
  }
  const headers: Record<string, string> = {
    'content-digest': contentDigest,
    'signature-input': serializeDictionary(new Map([[SIGNATURE_PROFILE.label, innerList]])),
    signature: serializeDictionary(new Map([[SIGNATURE_PROFILE.label, [signature, new Map()]]])),
  };
  if (contentType !== undefined) headers['content-type'] = contentType;
  return headers;
}

/**
 * The Ed25519 verification primitive the verifier uses: node:crypto with a cached KeyObject,
 * strict signature length, never throws (a wrong key type or malformed input is `false`).
 *
 * @example
 *   ed25519Verify(publicKeyObject(raw), message, signature); // boolean
 */
export function ed25519Verify(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (key.asymmetricKeyType !== 'ed25519' || signature.length !== SIGNATURE_PROFILE.signatureBytes) return false;
  try {
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * Same as {@link ed25519Verify}, on libuv's thread pool: lets one process spread verifications over
 * every core while the main thread keeps serving HTTP.
 *
 * @example
 *   await ed25519VerifyAsync(publicKeyObject(raw), message, signature); // boolean
 */
export function ed25519VerifyAsync(key: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (key.asymmetricKeyType !== 'ed25519' || signature.length !== SIGNATURE_PROFILE.signatureBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      cryptoVerify(null, message, key, signature, (err, ok) => resolve(err === null && ok === true));
    } catch {
      resolve(false);
    }
  });
}

type HeaderBag = Record<string, string | string[] | undefined>;

/** One header's value; a header sent twice (an array of several values) is refused. */
function singleHeader(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 1 && typeof v[0] === 'string') return v[0];
    fail('SK_ERR_SIGNATURE_MALFORMED', `the ${name} header appears more than once`);
  }
  if (typeof v !== 'string') fail('SK_ERR_SIGNATURE_MALFORMED', `the ${name} header is not text`);
  return v;
}

/** RFC 9421 §2.1: a field's value with leading and trailing whitespace removed. */
const fieldValue = (v: string): string => v.replace(/^[ \t]+|[ \t]+$/g, '');

/**
 * The key id a request claims, read without any cryptography (and without throwing), so the
 * server can rate-limit per key id before spending a verification on it.
 *
 * @example
 *   const keyId = peekKeyId(req.headers); // string | undefined
 */
export function peekKeyId(headers: HeaderBag): string | undefined {
  try {
    const raw = headers['signature-input'];
    if (typeof raw !== 'string' || raw.length > SIGNATURE_PROFILE.maxHeaderChars) return undefined;
    const member = parseDictionary(raw).get(SIGNATURE_PROFILE.label);
    const keyId = member?.[1].get('keyid');
    return typeof keyId === 'string' && keyId.length > 0 && keyId.length <= SIGNATURE_PROFILE.keyIdMaxChars ? keyId : undefined;
  } catch {
    return undefined;
  }
}

interface ParsedSignature {
  coveredNames: string[];
  signatureParams: string;
  created: number;
  expires: number;
  nonce: string;
  keyId: string;
  signature: Uint8Array;
}

/** Parses and checks Signature-Input and Signature against the profile (no clock, no crypto). */
function parseSignatureHeaders(sigInput: string, sigHeader: string, hasBody: boolean): ParsedSignature {
  if (sigInput.length > SIGNATURE_PROFILE.maxHeaderChars || sigHeader.length > SIGNATURE_PROFILE.maxHeaderChars) {
    fail('SK_ERR_SIGNATURE_MALFORMED', 'a signature header is too long');
  }
  const inputDict = parseStrictDictionary(sigInput, 'Signature-Input');
  const sigDict = parseStrictDictionary(sigHeader, 'Signature');
  if (inputDict.size !== 1 || sigDict.size !== 1) fail('SK_ERR_SIGNATURE_MALFORMED', 'exactly one signature (label sk) is allowed');
  const inputMember = inputDict.get(SIGNATURE_PROFILE.label);
  const sigMember = sigDict.get(SIGNATURE_PROFILE.label);
  if (inputMember === undefined || sigMember === undefined) fail('SK_ERR_SIGNATURE_MALFORMED', 'the signature label must be sk');
  if (!Array.isArray(inputMember[0])) fail('SK_ERR_SIGNATURE_MALFORMED', 'Signature-Input sk must be an inner list');
  if (Array.isArray(sigMember[0]) || !(sigMember[0] instanceof ArrayBuffer) || sigMember[1].size !== 0) {
    fail('SK_ERR_SIGNATURE_MALFORMED', 'Signature sk must be a byte sequence without parameters');
  }
  const [items, params] = inputMember as InnerList;

  // Covered components: exactly the profile's set, each a plain string, no duplicates.
  const expected = new Set<string>(SIGNATURE_PROFILE.components);
  if (hasBody) expected.add(SIGNATURE_PROFILE.bodyComponent);
  const coveredNames: string[] = [];
  for (const [name, itemParams] of items) {
    if (typeof name !== 'string' || itemParams.size !== 0) fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', 'covered components must be plain quoted names without parameters');
    if (!expected.has(name)) fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', `component ${quoted(name)} is not part of this profile${name === SIGNATURE_PROFILE.bodyComponent ? ' for a bodiless request' : ''}`);
    if (coveredNames.includes(name)) fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', `component ${quoted(name)} is listed twice`);
    coveredNames.push(name);
  }
  if (coveredNames.length !== expected.size) {
    const missing = [...expected].filter((n) => !coveredNames.includes(n));
    fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', `the signature does not cover ${missing.join(', ')}`);
  }

  // Parameters: required present, nothing unknown, nothing twice (the parser keeps only the last).
  const paramNames = topLevelKeys(sigInput).params[0] ?? [];
  const known = new Set<string>([...SIGNATURE_PROFILE.requiredParams, ...SIGNATURE_PROFILE.optionalParams]);
  const seen = new Set<string>();
  for (const name of paramNames) {
    if (!known.has(name)) fail('SK_ERR_SIGNATURE_BAD_PARAMS', `unknown signature parameter ${quoted(name)}`);
    if (seen.has(name)) fail('SK_ERR_SIGNATURE_BAD_PARAMS', `signature parameter ${name} appears twice`);
    seen.add(name);
  }
  for (const name of SIGNATURE_PROFILE.requiredParams) {
    if (!params.has(name)) fail('SK_ERR_SIGNATURE_BAD_PARAMS', `signature parameter ${name} is missing`);
  }
  const created = params.get('created');
  const expires = params.get('expires');
  const nonce = params.get('nonce');
  const keyId = params.get('keyid');
  const tag = params.get('tag');
  const alg = params.get('alg');
  const isUnixTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!isUnixTime(created) || !isUnixTime(expires)) fail('SK_ERR_SIGNATURE_BAD_PARAMS', 'created and expires must be non-negative integers');
  if (typeof nonce !== 'string' || typeof keyId !== 'string' || typeof tag !== 'string' || (alg !== undefined && typeof alg !== 'string')) {
    fail('SK_ERR_SIGNATURE_BAD_PARAMS', 'nonce, keyid, tag and alg must be quoted strings');
  }
  if (keyId.length === 0 || keyId.length > SIGNATURE_PROFILE.keyIdMaxChars) fail('SK_ERR_SIGNATURE_BAD_PARAMS', 'keyid must be 1–256 characters');
  if (alg !== undefined && alg !== SIGNATURE_PROFILE.alg) fail('SK_ERR_SIGNATURE_ALG', 'alg must be ed25519 when present');
  if (tag !== SIGNATURE_PROFILE.tag) fail('SK_ERR_SIGNATURE_TAG', `tag must be ${SIGNATURE_PROFILE.tag}`);
  if (!isBase64urlNonce(nonce)) fail('SK_ERR_SIGNATURE_NONCE', 'the nonce must be canonical base64url of at least 16 bytes, at most 128 characters');

  return {
    coveredNames,
    // RFC 9421 §2.3: the base carries the re-serialized inner list, not the header's own spelling.
    signatureParams: serializeInnerList(inputMember as InnerList),
    created,
    expires,
    nonce,
    keyId,
    signature: new Uint8Array(sigMember[0]),
  };
}

/**
 * Verifies a signed request against the profile; resolves with the key id and parameters, or
 * rejects with a SikkerKeyError whose code names the first rule broken (never any other error
 * for any input). The nonce is claimed only after the signature verified, so an attacker
 * cannot burn a legitimate client's nonces with forged requests.
 *
 * @example
 *   const v = await verifyRequest(
 *     { method: req.method, target: req.url, headers: req.headers, body: rawBody },
 *     { authority: 'vault.example.com', lookupKey: (id) => keyCache.get(id), nonces },
 *   );
 */
export async function verifyRequest(req: IncomingRequest, opts: VerifyOptions): Promise<Verified> {
  try {
    return await verifyRequestInner(req, opts);
  } catch (err) {
    if (isSikkerKeyError(err)) throw err;
    // A bug or an unexpected input shape must still surface as a typed 401, never as a crash.
    throw new SikkerKeyError('SK_ERR_SIGNATURE_MALFORMED', 'the request could not be checked against the signature profile', { cause: err });
  }
}

async function verifyRequestInner(req: IncomingRequest, opts: VerifyOptions): Promise<Verified> {
  const headers: HeaderBag = req.headers ?? {};
  const absent = [['signature-input', 'Signature-Input'], ['signature', 'Signature'], ['content-digest', 'Content-Digest']]
    .filter(([name]) => headers[name as string] === undefined)
    .map(([, display]) => display);
  if (absent.length > 0) fail('SK_ERR_SIGNATURE_MISSING', `the request is not signed: ${absent.join(', ')} absent`);
  const sigInputRaw = singleHeader(headers, 'signature-input') as string;
  const sigRaw = singleHeader(headers, 'signature') as string;
  const digestRaw = singleHeader(headers, 'content-digest') as string;
  const contentTypeRaw = singleHeader(headers, 'content-type');
  const body = req.body instanceof Uint8Array ? req.body : fail('SK_ERR_SIGNATURE_MALFORMED', 'the request body must be bytes');
  const method = typeof req.method === 'string' ? req.method : '';
  const target = typeof req.target === 'string' ? req.target : '';
  const authority = normalizeAuthority(opts.authority);

  const sigInput = fieldValue(sigInputRaw);
  const sigHeader = fieldValue(sigRaw);
  const contentDigest = fieldValue(digestRaw);
  const contentType = contentTypeRaw === undefined ? undefined : fieldValue(contentTypeRaw);
  for (const [what, value] of [
    ['the method', method],
    ['the request target', target],
    ['the authority', authority],
    ['Signature-Input', sigInput],
    ['Signature', sigHeader],
    ['Content-Digest', contentDigest],
    ['Content-Type', contentType ?? ''],
  ] as const) {
    if (!isPrintableAscii(value)) fail('SK_ERR_SIGNATURE_NON_ASCII', `${what} contains non-ASCII or control characters`);
  }

  const hasBody = body.length > 0;
  const parsed = parseSignatureHeaders(sigInput, sigHeader, hasBody);

  const nowMs = (opts.now ?? Date.now)();
  const skewMs = SIGNATURE_PROFILE.maxSkewSeconds * 1000;
  if (parsed.created * 1000 > nowMs + skewMs) fail('SK_ERR_SIGNATURE_FUTURE', 'created is more than 30 s in the future: check this host\'s clock');
  if (parsed.expires <= parsed.created || parsed.expires - parsed.created > SIGNATURE_PROFILE.maxLifetimeSeconds) {
    fail('SK_ERR_SIGNATURE_LIFETIME', `expires must be after created and at most ${SIGNATURE_PROFILE.maxLifetimeSeconds} s later`);
  }
  if (nowMs > parsed.expires * 1000 + skewMs) fail('SK_ERR_SIGNATURE_EXPIRED', 'the signature has expired');
  if (opts.signedAfter !== undefined && parsed.created * 1000 <= opts.signedAfter + skewMs) {
    fail('SK_ERR_SIGNATURE_EXPIRED', `this vault was restored from a backup at ${new Date(opts.signedAfter).toISOString()}: it accepts only signatures created more than ${SIGNATURE_PROFILE.maxSkewSeconds} s later; sign the request again`);
  }

  checkContentDigest(contentDigest, body);

  if (!isToken(method)) fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', 'the method is not an HTTP token');
  const parts = splitTarget(target);
  if (parts === undefined) fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', 'the request target must be origin-form: /path[?query]');
  if (hasBody && contentType === undefined) fail('SK_ERR_SIGNATURE_BAD_COMPONENTS', 'content-type is covered but the request has no Content-Type header');
  const values: Record<string, string> = {
    '@method': method,
    '@authority': authority,
    '@path': parts.path,
    '@query': parts.query,
    'content-digest': contentDigest,
    'content-type': contentType ?? '',
  };
  const base = buildSignatureBase(parsed.coveredNames.map((n) => [n, values[n] as string]), parsed.signatureParams);

  if (parsed.signature.length !== SIGNATURE_PROFILE.signatureBytes) fail('SK_ERR_SIGNATURE_INVALID', 'the signature is not 64 bytes');
  let key: KeyObject | undefined;
  try {
    key = await opts.lookupKey(parsed.keyId);
  } catch (cause) {
    if (isSikkerKeyError(cause)) throw cause;
    fail('SK_ERR_STORE', 'looking up the signing key failed', cause);
  }
  if (key === undefined) fail('SK_ERR_SIGNATURE_UNKNOWN_KEY', 'no identity with this key id may call this route');
  const message = Buffer.from(base, 'ascii');
  const ok = opts.verify !== undefined
    ? await opts.verify(key, message, parsed.signature)
    : opts.async === true ? await ed25519VerifyAsync(key, message, parsed.signature) : ed25519Verify(key, message, parsed.signature);
  if (!ok) fail('SK_ERR_SIGNATURE_INVALID', 'the signature does not verify');

  const nonceHash = createHash('sha256').update(parsed.nonce, 'ascii').digest('hex');
  let claimed: boolean;
  try {
    claimed = await opts.nonces.claim(parsed.keyId, nonceHash, parsed.expires + SIGNATURE_PROFILE.nonceRetentionAfterExpiresSeconds);
  } catch (cause) {
    if (isSikkerKeyError(cause)) throw cause;
    return fail('SK_ERR_STORE', 'the nonce store failed', cause);
  }
  if (claimed !== true) fail('SK_ERR_SIGNATURE_REPLAYED', 'this nonce was already used with this key');
  return { keyId: parsed.keyId, created: parsed.created, expires: parsed.expires, nonce: parsed.nonce };
}

/**
 * What the new key signs in `operator rotate-key` (the request itself is signed by the old key):
 * it binds the proof to this one replacement, so it proves nothing anywhere else.
 */
export function rotationProofMessage(oldKeyId: string, newKeyId: string): Buffer {
  return Buffer.from(`sikkerkey-operator-rotate-key/v1\n${oldKeyId}\n${newKeyId}`, 'utf8');
}

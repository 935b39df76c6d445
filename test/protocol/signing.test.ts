import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { parseDictionary, serializeDictionary, serializeInnerList } from 'structured-headers';
import type { BareItem, InnerList, Item, Parameters as SfParameters } from 'structured-headers';
import {
  SIGNATURE_PROFILE, buildSignatureBase, peekKeyId, signRequest, verifyRequest,
} from '../../protocol/signing.js';
import type { IncomingRequest, RequestToSign, VerifyOptions, Verified } from '../../protocol/signing.js';
import { generateIdentityKey, publicKeyObject } from '../../protocol/keys.js';
import { computeContentDigest } from '../../protocol/digest.js';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';
import { memoryNonceStore, signForInput } from '../support/signing-fixtures.js';

const NOW = 1_700_000_000; // unix seconds; every test pins the clock here
const AUTHORITY = 'vault.example.com:8200';
const alice = generateIdentityKey();
const bob = generateIdentityKey();
const stranger = generateIdentityKey();
const known = new Map<string, KeyObject>([
  [alice.keyId, publicKeyObject(alice.publicKey)],
  [bob.keyId, publicKeyObject(bob.publicKey)],
]);
const jsonBody = Buffer.from('{"value":"not-a-real-secret","note":"café ✓"}');

function signed(over: Partial<RequestToSign> = {}, opts: Parameters<typeof signRequest>[2] = {}, key = alice): IncomingRequest {
  const req: RequestToSign = {
    method: 'POST',
    authority: AUTHORITY,
    target: '/v1/projects/payments/secrets/db%20main?dryRun=true&v=2',
    body: jsonBody,
    contentType: 'application/json',
    ...over,
  };
  const headers = signRequest(req, key, { now: NOW, ...opts });
  return { method: req.method, target: req.target, headers: { host: AUTHORITY, ...headers }, body: req.body ?? new Uint8Array(0) };
}

const bodiless = (): IncomingRequest => signed({ method: 'GET', body: undefined, contentType: undefined, target: '/v1/projects' });

function verify(req: IncomingRequest, over: Partial<VerifyOptions> = {}): Promise<Verified> {
  return verifyRequest(req, {
    authority: AUTHORITY,
    lookupKey: (id) => known.get(id),
    nonces: memoryNonceStore(),
    now: () => NOW * 1000,
    ...over,
  });
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<ErrorCode | 'accepted'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'accepted';
  } catch (err) {
    assert.ok(err instanceof SikkerKeyError, `expected a SikkerKeyError, got ${String(err)}`);
    return err.code;
  }
}

/** The request with its Signature-Input replaced and a valid signature over it (by `key`). */
function resigned(req: IncomingRequest, signatureInput: string, opts: { key?: typeof alice; authority?: string } = {}): IncomingRequest {
  const headers: IncomingRequest['headers'] = { ...req.headers, 'signature-input': signatureInput };
  const next = { ...req, headers };
  headers.signature = signForInput(next, opts.authority ?? AUTHORITY, signatureInput, (opts.key ?? alice).privateKey);
  return next;
}

/** The inner list of `sk`, edited, serialized back into a Signature-Input value. */
function editedInput(req: IncomingRequest, edit: (items: Item[], params: SfParameters) => void): string {
  const member = parseDictionary(req.headers['signature-input'] as string).get('sk') as InnerList;
  const items = member[0].map((i): Item => [i[0], new Map(i[1])]);
  const params = new Map(member[1]);
  edit(items, params);
  return serializeDictionary(new Map([['sk', [items, params] as InnerList]]));
}

const withParam = (req: IncomingRequest, name: string, value: BareItem | undefined): IncomingRequest =>
  resigned(req, editedInput(req, (_i, p) => (value === undefined ? p.delete(name) : p.set(name, value))));

const withComponents = (req: IncomingRequest, names: string[]): IncomingRequest =>
  resigned(req, editedInput(req, (items) => items.splice(0, items.length, ...names.map((n): Item => [n, new Map()]))));

const withHeaders = (req: IncomingRequest, headers: IncomingRequest['headers']): IncomingRequest => ({ ...req, headers: { ...req.headers, ...headers } });

const withoutHeader = (req: IncomingRequest, name: string): IncomingRequest => {
  const headers = { ...req.headers };
  delete headers[name];
  return { ...req, headers };
};

/** Canonical base64url of `n` random bytes with a chosen unused bit set (non-canonical). */
function nonCanonicalNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const s = Buffer.alloc(16, 7).toString('base64url'); // 22 characters, 4 unused bits
  const last = alphabet.indexOf(s[21] as string);
  return `${s.slice(0, 21)}${alphabet[last + 1] as string}`;
}

test('a signed request verifies, synchronously and on the thread pool, and reports who signed it', async () => {
  for (const async of [false, true]) {
    const nonces = memoryNonceStore();
    const req = signed();
    const v = await verify(req, { async, nonces });
    assert.equal(v.keyId, alice.keyId);
    assert.equal(v.created, NOW);
    assert.equal(v.expires, NOW + SIGNATURE_PROFILE.defaultLifetimeSeconds);
    const sent = parseDictionary(req.headers['signature-input'] as string).get('sk') as InnerList;
    assert.equal(v.nonce, sent[1].get('nonce'));
    const nonceHash = createHash('sha256').update(v.nonce).digest('hex');
    assert.deepEqual([...nonces.held], [[`${alice.keyId}\u0000${nonceHash}`, v.expires + 90]]);
    assert.equal((await verify(bodiless(), { async })).keyId, alice.keyId);
  }
});

test('the signer covers content-type only when there is a body, and emits the profile\'s parameters in order', () => {
  const withBody = signed();
  assert.match(
    withBody.headers['signature-input'] as string,
    /^sk=\("@method" "@authority" "@path" "@query" "content-digest" "content-type"\);created=1700000000;expires=1700000030;nonce="[A-Za-z0-9_-]{43}";keyid="[A-Za-z0-9_-]{43}";alg="ed25519";tag="sikkerkey\/v1"$/,
  );
  assert.equal(withBody.headers['content-type'], 'application/json');
  assert.equal(withBody.headers['content-digest'], computeContentDigest(jsonBody));
  assert.match(withBody.headers.signature as string, /^sk=:[A-Za-z0-9+/]{86}==:$/);
  const without = signRequest({ method: 'GET', authority: AUTHORITY, target: '/v1/projects', contentType: 'application/json' }, alice, { now: NOW });
  assert.match(without['signature-input'] as string, /^sk=\("@method" "@authority" "@path" "@query" "content-digest"\);/);
  assert.equal(without['content-type'], undefined);
  assert.equal(without['content-digest'], 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
  assert.deepEqual(Object.keys(without).sort(), ['content-digest', 'signature', 'signature-input']);
});

test('the signature base is RFC 9421 §2.5: quoted names, one line each, @signature-params last, no trailing newline', () => {
  assert.equal(
    buildSignatureBase([['@method', 'GET'], ['@query', '?']], '("@method" "@query");created=1'),
    '"@method": GET\n"@query": ?\n"@signature-params": ("@method" "@query");created=1',
  );
});

test('200 signatures carry 200 distinct nonces, and a lifetime of 60 s (the most the profile allows) can be chosen', () => {
  const nonces = new Set(Array.from({ length: 200 }, () => (parseDictionary(signed().headers['signature-input'] as string).get('sk') as InnerList)[1].get('nonce')));
  assert.equal(nonces.size, 200);
  const long = parseDictionary(signed({}, { lifetimeSeconds: 60 }).headers['signature-input'] as string).get('sk') as InnerList;
  assert.equal(long[1].get('expires'), NOW + 60);
});

test('a replayed request is refused, also by another replica sharing the nonce store, in both modes', async () => {
  for (const async of [false, true]) {
    const shared = memoryNonceStore();
    const req = signed();
    await verify(req, { nonces: shared, async });
    assert.equal(await codeOf(verify(req, { nonces: shared, async })), 'SK_ERR_SIGNATURE_REPLAYED');
    assert.equal(await codeOf(verify(structuredClone(req), { nonces: shared, async, now: () => NOW * 1000 + 50_000 })), 'SK_ERR_SIGNATURE_REPLAYED');
  }
});

test('the nonce is claimed only after the signature verified, so forgeries cannot burn a client\'s nonces', async () => {
  const nonces = memoryNonceStore();
  const forged = withParam(signed(), 'keyid', bob.keyId); // signed by alice, claims to be bob
  assert.equal(await codeOf(verify(forged, { nonces })), 'SK_ERR_SIGNATURE_INVALID');
  assert.equal(await codeOf(verify(withoutHeader(signed(), 'content-digest'), { nonces })), 'SK_ERR_SIGNATURE_MISSING');
  assert.equal(nonces.claims, 0);
});

test('a key id nobody has is SK_ERR_SIGNATURE_UNKNOWN_KEY; a signature by another known key is INVALID', async () => {
  assert.equal(await codeOf(verify(signed({}, {}, stranger))), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
  assert.equal(await codeOf(verify(signed(), { lookupKey: async () => undefined })), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
  assert.equal(await codeOf(verify(signed(), { lookupKey: () => known.get(bob.keyId) })), 'SK_ERR_SIGNATURE_INVALID');
  const rsa = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  assert.equal(await codeOf(verify(signed(), { lookupKey: () => rsa })), 'SK_ERR_SIGNATURE_INVALID');
  assert.equal(await codeOf(verify(signed(), { lookupKey: () => rsa, async: true })), 'SK_ERR_SIGNATURE_INVALID');
});

test('@authority is the configured one: the Host header neither helps nor hurts', async () => {
  assert.equal((await verify(withHeaders(signed(), { host: 'evil.example.com' }))).keyId, alice.keyId);
  assert.equal((await verify(withoutHeader(signed(), 'host'))).keyId, alice.keyId);
  const forOther = signed({ authority: 'evil.example.com' });
  assert.equal(await codeOf(verify(withHeaders(forOther, { host: 'evil.example.com', 'x-forwarded-host': 'evil.example.com' }))), 'SK_ERR_SIGNATURE_INVALID');
  for (const other of ['vault.example.com', 'vault.example.com:8201', 'vault.example.com:443', '127.0.0.1:8200']) {
    assert.equal(await codeOf(verify(signed(), { authority: other })), 'SK_ERR_SIGNATURE_INVALID', other);
  }
  // RFC 9421 §2.2.3: the authority is normalised to lower case on both sides.
  assert.equal((await verify(signed({ authority: 'Vault.Example.COM:8200' }))).keyId, alice.keyId);
  assert.equal((await verify(signed(), { authority: 'VAULT.example.com:8200' })).keyId, alice.keyId);
});

test('@path and @query are the raw target: no decoding, and an empty query is "?"', async () => {
  const base = { target: '/v1/a%2Fb/%7E?x=%20&y=1' };
  const req = signed(base);
  assert.equal((await verify(req)).keyId, alice.keyId);
  for (const target of ['/v1/a/b/%7E?x=%20&y=1', '/v1/a%2fb/%7E?x=%20&y=1', '/v1/a%2Fb/~?x=%20&y=1', '/v1/a%2Fb/%7E?x=+&y=1', '/v1/a%2Fb/%7E?y=1&x=%20']) {
    assert.equal(await codeOf(verify({ ...req, target })), 'SK_ERR_SIGNATURE_INVALID', target);
  }
  const noQuery = signed({ target: '/v1/projects' });
  assert.equal((await verify({ ...noQuery, target: '/v1/projects?' })).keyId, alice.keyId, 'RFC 9421: "?" and no query sign alike');
  assert.equal(await codeOf(verify({ ...noQuery, target: '/v1/projects?a' })), 'SK_ERR_SIGNATURE_INVALID');
});

test('clock rules: created at most 30 s ahead, expires - created in (0, 60], accepted until expires + 30 s', async () => {
  const at = (ms: number): Partial<VerifyOptions> => ({ now: () => ms });
  const req = signed(); // created NOW, expires NOW + 30
  assert.equal((await verify(req, at((NOW - 30) * 1000))).keyId, alice.keyId, 'created exactly 30 s ahead');
  assert.equal(await codeOf(verify(req, at((NOW - 30) * 1000 - 1))), 'SK_ERR_SIGNATURE_FUTURE');
  assert.equal(await codeOf(verify(req, at((NOW - 3600) * 1000))), 'SK_ERR_SIGNATURE_FUTURE');
  assert.equal((await verify(req, at((NOW + 60) * 1000))).keyId, alice.keyId, 'expires + 30 s exactly');
  assert.equal(await codeOf(verify(req, at((NOW + 60) * 1000 + 1))), 'SK_ERR_SIGNATURE_EXPIRED');
  assert.equal(await codeOf(verify(req, at((NOW + 86_400) * 1000))), 'SK_ERR_SIGNATURE_EXPIRED');
  assert.equal((await verify(withParam(req, 'expires', NOW + 60))).keyId, alice.keyId, 'a 60 s lifetime');
  assert.equal(await codeOf(verify(withParam(req, 'expires', NOW + 61))), 'SK_ERR_SIGNATURE_LIFETIME');
  assert.equal(await codeOf(verify(withParam(req, 'expires', NOW))), 'SK_ERR_SIGNATURE_LIFETIME');
  assert.equal(await codeOf(verify(withParam(req, 'expires', NOW - 1))), 'SK_ERR_SIGNATURE_LIFETIME');
  assert.equal(await codeOf(verify(withParam(req, 'expires', NOW + 86_400 * 365))), 'SK_ERR_SIGNATURE_LIFETIME');
});

test('signedAfter (a restored vault): refuses what may have been signed before the moment — created up to 30 s after it, as a clock may run ahead — before any key is looked up or nonce claimed', async () => {
  const claims: string[] = [];
  const nonces = { claim: async (keyId: string): Promise<boolean> => { claims.push(keyId); return true; } };
  const lookups: string[] = [];
  const lookupKey = (id: string): KeyObject | undefined => { lookups.push(id); return known.get(id); };
  const restoredAt = (NOW - 30) * 1000; // created NOW is exactly the skew allowance after it
  const refused = await verify(signed(), { signedAfter: restoredAt, nonces, lookupKey }).catch((err: unknown) => err);
  assert.ok(isSikkerKeyError(refused, 'SK_ERR_SIGNATURE_EXPIRED'), String(refused));
  assert.match((refused as SikkerKeyError).message, /restored from a backup at 2023-11-14T22:12:50\.000Z/);
  assert.equal(await codeOf(verify(signed(), { signedAfter: restoredAt + 60_000, nonces, lookupKey })), 'SK_ERR_SIGNATURE_EXPIRED');
  assert.deepEqual([claims, lookups], [[], []], 'a stale signature costs no key lookup and no nonce');
  assert.equal((await verify(signed(), { signedAfter: restoredAt - 1, nonces, lookupKey })).keyId, alice.keyId, 'one millisecond earlier: accepted');
});

test('each way a request can break the profile is refused with the code for that fault, and every code the verifier emits is reached', async () => {
  const sigInput = (r: IncomingRequest): string => r.headers['signature-input'] as string;
  const sig = (r: IncomingRequest): string => r.headers.signature as string;
  const sigBytes = (r: IncomingRequest): Buffer => Buffer.from((parseDictionary(sig(r)).get('sk') as [ArrayBuffer, SfParameters])[0]);
  const withSignatureBytes = (r: IncomingRequest, b: Buffer): IncomingRequest => withHeaders(r, { signature: `sk=:${b.toString('base64')}:` });
  const nonceOf = (n: string): IncomingRequest => withParam(signed(), 'nonce', n);
  const allParams = 'created=1700000000;expires=1700000030';
  const cases: Array<[string, () => IncomingRequest, ErrorCode, Partial<VerifyOptions>?]> = [
    // -- presence
    ['no Signature-Input', () => withoutHeader(signed(), 'signature-input'), 'SK_ERR_SIGNATURE_MISSING'],
    ['no Signature', () => withoutHeader(signed(), 'signature'), 'SK_ERR_SIGNATURE_MISSING'],
    ['no Content-Digest', () => withoutHeader(signed(), 'content-digest'), 'SK_ERR_SIGNATURE_MISSING'],
    ['no headers at all', () => ({ ...signed(), headers: {} }), 'SK_ERR_SIGNATURE_MISSING'],
    // -- structure
    ['Signature-Input that does not parse', () => withHeaders(signed(), { 'signature-input': 'sk=("@method"' }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Signature that does not parse', () => withHeaders(signed(), { signature: 'sk=:not base64!:' }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['two signature labels in Signature-Input', () => resigned(signed(), `${sigInput(signed())}, sig2=("@method");created=1700000000`), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['two signature labels in Signature', (r = signed()) => withHeaders(r, { signature: `${sig(r)}, sig2=:AAAA:` }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['the label sk repeated in Signature-Input (two header lines joined)', (r = signed()) => withHeaders(r, { 'signature-input': `${sigInput(r)}, ${sigInput(r)}` }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['the label sk repeated in Signature', (r = signed()) => withHeaders(r, { signature: `${sig(r)}, ${sig(r)}` }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['a label other than sk in both headers', (r = signed()) => resigned(r, sigInput(r).replace(/^sk=/, 'sig1=')), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['a label other than sk in Signature only', (r = signed()) => withHeaders(r, { signature: sig(r).replace(/^sk=/, 'sig1=') }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Signature-Input sk that is an item, not an inner list', () => withHeaders(signed(), { 'signature-input': 'sk="@method"' }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Signature sk that is a string', () => withHeaders(signed(), { signature: 'sk="abc"' }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Signature sk with parameters', (r = signed()) => withHeaders(r, { signature: `${sig(r)};x=1` }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Signature-Input sent twice (array)', (r = signed()) => withHeaders(r, { 'signature-input': [sigInput(r), sigInput(r)] }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Signature sent twice (array)', (r = signed()) => withHeaders(r, { signature: [sig(r), sig(r)] }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Content-Digest sent twice (array)', (r = signed()) => withHeaders(r, { 'content-digest': [r.headers['content-digest'] as string, r.headers['content-digest'] as string] }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['Content-Type sent twice (array)', () => withHeaders(signed(), { 'content-type': ['application/json', 'application/json'] }), 'SK_ERR_SIGNATURE_MALFORMED'],
    ['a header over 4096 characters', () => withHeaders(signed(), { 'signature-input': `sk=("@method");keyid="${'a'.repeat(5000)}"` }), 'SK_ERR_SIGNATURE_MALFORMED'],
    // -- covered components
    ['@query not covered', () => withComponents(signed(), ['@method', '@authority', '@path', 'content-digest', 'content-type']), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['content-digest not covered', () => withComponents(signed(), ['@method', '@authority', '@path', '@query', 'content-type']), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['content-type not covered on a request with a body', () => withComponents(signed(), ['@method', '@authority', '@path', '@query', 'content-digest']), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['content-type covered on a bodiless request', () => withComponents(withHeaders(bodiless(), { 'content-type': 'application/json' }), ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type']), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['an extra component (host)', () => withComponents(signed(), ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type', 'host']), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['an extra derived component (@target-uri)', () => withHeaders(signed(), { 'signature-input': editedInput(signed(), (items) => items.push(['@target-uri', new Map()])) }), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a component listed twice', () => withComponents(signed(), ['@method', '@method', '@authority', '@path', '@query', 'content-digest', 'content-type']), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a component with a parameter ("@query";req)', () => resigned(signed(), editedInput(signed(), (items) => (items[3] as Item)[1].set('req', true))), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a component with ;sf', () => resigned(signed(), editedInput(signed(), (items) => (items[4] as Item)[1].set('sf', true))), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a component that is a token, not a string', () => withHeaders(signed(), { 'signature-input': sigInput(signed()).replace('"content-digest"', 'content-digest') }), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['no components at all', () => withComponents(signed(), []), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a covered Content-Type header that is absent', () => withoutHeader(signed(), 'content-type'), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['an absolute-form request target', () => ({ ...signed(), target: 'http://vault.example.com:8200/v1/projects' }), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['an asterisk-form request target', () => ({ ...signed(), target: '*' }), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a method that is not a token', () => ({ ...signed(), method: 'PO ST' }), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    // -- parameters
    ...SIGNATURE_PROFILE.requiredParams.map((p): [string, () => IncomingRequest, ErrorCode] => [`parameter ${p} missing`, () => withParam(signed(), p, undefined), 'SK_ERR_SIGNATURE_BAD_PARAMS']),
    ['an unknown parameter', () => withParam(signed(), 'foo', 'bar'), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['an unknown boolean parameter', () => withParam(signed(), 'req', true), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['created given twice with the same value', (r = signed()) => resigned(r, sigInput(r).replace(allParams, `${allParams};created=1700000000`)), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['nonce given twice', (r = signed()) => resigned(r, `${sigInput(r)};nonce="${randomBytes(16).toString('base64url')}"`), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['keyid given twice (the last one honest)', (r = signed()) => resigned(r, sigInput(r).replace(';keyid=', `;keyid="${bob.keyId}";keyid=`)), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['created as a string', () => withParam(signed(), 'created', String(NOW)), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['created negative', () => withParam(signed(), 'created', -1), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['created a decimal', () => withParam(signed(), 'created', NOW / 1000 + 0.5), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['created a boolean', () => withParam(signed(), 'created', true), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['expires as a string', () => withParam(signed(), 'expires', String(NOW + 30)), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['nonce as a number', () => withParam(signed(), 'nonce', 12345), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['nonce as a byte sequence', () => withParam(signed(), 'nonce', randomBytes(16)), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['keyid as a number', () => withParam(signed(), 'keyid', 7), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['keyid empty', () => withParam(signed(), 'keyid', ''), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['keyid over 256 characters', () => withParam(signed(), 'keyid', 'k'.repeat(257)), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['tag as a token', (r = signed()) => resigned(r, sigInput(r).replace('tag="sikkerkey/v1"', 'tag=sikkerkey/v1')), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    ['alg as a token', (r = signed()) => resigned(r, sigInput(r).replace('alg="ed25519"', 'alg=ed25519')), 'SK_ERR_SIGNATURE_BAD_PARAMS'],
    // -- alg, tag, nonce
    ['alg naming another algorithm', () => withParam(signed(), 'alg', 'rsa-pss-sha512'), 'SK_ERR_SIGNATURE_ALG'],
    ['alg in upper case', () => withParam(signed(), 'alg', 'ED25519'), 'SK_ERR_SIGNATURE_ALG'],
    ['alg hmac-sha256', () => withParam(signed(), 'alg', 'hmac-sha256'), 'SK_ERR_SIGNATURE_ALG'],
    ['another profile tag', () => withParam(signed(), 'tag', 'sikkerkey/v2'), 'SK_ERR_SIGNATURE_TAG'],
    ['an empty tag', () => withParam(signed(), 'tag', ''), 'SK_ERR_SIGNATURE_TAG'],
    ['a nonce of 15 bytes', () => nonceOf(randomBytes(15).toString('base64url')), 'SK_ERR_SIGNATURE_NONCE'],
    ['a nonce of 129 characters', () => nonceOf(randomBytes(97).toString('base64url').slice(0, 129)), 'SK_ERR_SIGNATURE_NONCE'],
    ['a nonce in standard base64 (+ and /)', () => nonceOf('++++////++++////++++////'), 'SK_ERR_SIGNATURE_NONCE'],
    ['a nonce with padding', () => nonceOf(`${randomBytes(16).toString('base64url')}==`), 'SK_ERR_SIGNATURE_NONCE'],
    ['an empty nonce', () => nonceOf(''), 'SK_ERR_SIGNATURE_NONCE'],
    ['a nonce with a space', () => nonceOf(`${randomBytes(16).toString('base64url')} x`), 'SK_ERR_SIGNATURE_NONCE'],
    ['a nonce with non-canonical trailing bits', () => nonceOf(nonCanonicalNonce()), 'SK_ERR_SIGNATURE_NONCE'],
    // -- characters
    ['a raw non-ASCII byte in the path', () => ({ ...signed(), target: '/v1/projects/payménts' }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a control character in the query', () => ({ ...signed(), target: '/v1/projects?a=\u0001' }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a control character in the method', () => ({ ...signed(), method: 'POST\u0000' }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['non-ASCII in Content-Type', () => withHeaders(signed(), { 'content-type': 'application/json; charset=ütf-8' }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a tab inside Content-Digest', (r = signed()) => withHeaders(r, { 'content-digest': (r.headers['content-digest'] as string).replace('=:', '=\t:') }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['DEL inside Signature-Input', (r = signed()) => withHeaders(r, { 'signature-input': `${sigInput(r)}\u007f` }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a line feed inside Signature', (r = signed()) => withHeaders(r, { signature: `${sig(r)}\n` }), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a non-ASCII configured authority', () => signed(), 'SK_ERR_SIGNATURE_NON_ASCII', { authority: 'vault.exämple.com' }],
    // -- digest
    ['a body changed after signing', () => ({ ...signed(), body: Buffer.from('{"value":"something else"}') }), 'SK_ERR_SIGNATURE_DIGEST_MISMATCH'],
    ['a body added to a bodiless request (content-type then is not covered)', () => ({ ...bodiless(), body: Buffer.from('x') }), 'SK_ERR_SIGNATURE_BAD_COMPONENTS'],
    ['a bodiless request carrying the digest of a body', (r = bodiless()) => resigned(withHeaders(r, { 'content-digest': computeContentDigest('x') }), sigInput(r)), 'SK_ERR_SIGNATURE_DIGEST_MISMATCH'],
    ['a digest in an unsupported algorithm only', (r = signed()) => resigned(withHeaders(r, { 'content-digest': 'md5=:CY9rzUYh03PK3k6DJie09g==:' }), sigInput(r)), 'SK_ERR_SIGNATURE_DIGEST_ALG'],
    // -- keys and signatures
    ['a key id nobody holds (signed by that key)', () => signed({}, {}, stranger), 'SK_ERR_SIGNATURE_UNKNOWN_KEY'],
    ['signed by bob, claiming alice', (r = signed()) => resigned(r, sigInput(r), { key: bob }), 'SK_ERR_SIGNATURE_INVALID'],
    ['a 63-byte signature', (r = signed()) => withSignatureBytes(r, sigBytes(r).subarray(0, 63)), 'SK_ERR_SIGNATURE_INVALID'],
    ['a 65-byte signature', (r = signed()) => withSignatureBytes(r, Buffer.concat([sigBytes(r), Buffer.from([0])])), 'SK_ERR_SIGNATURE_INVALID'],
    ['an empty signature', (r = signed()) => withSignatureBytes(r, Buffer.alloc(0)), 'SK_ERR_SIGNATURE_INVALID'],
    ['an all-zero signature', (r = signed()) => withSignatureBytes(r, Buffer.alloc(64)), 'SK_ERR_SIGNATURE_INVALID'],
    ['a signature for another authority', () => signed({ authority: 'vault.example.com:9999' }), 'SK_ERR_SIGNATURE_INVALID'],
    ['a different method than signed', () => ({ ...signed(), method: 'PUT' }), 'SK_ERR_SIGNATURE_INVALID'],
    // -- clock
    ['created 31 s in the future', () => signed({}, { now: NOW + 31 }), 'SK_ERR_SIGNATURE_FUTURE'],
    ['a 61 s lifetime', () => withParam(signed(), 'expires', NOW + 61), 'SK_ERR_SIGNATURE_LIFETIME'],
    ['expired beyond the skew', () => signed({}, { now: NOW - 61 }), 'SK_ERR_SIGNATURE_EXPIRED'],
  ];
  const seen = new Set<ErrorCode>();
  for (const [what, make, expected, over] of cases) {
    const code = await codeOf(verify(make(), over));
    assert.equal(code, expected, what);
    seen.add(expected);
  }
  // REPLAYED is covered above with a shared store; every other code the verifier emits appears in the table.
  const verifierCodes: ErrorCode[] = [
    'SK_ERR_SIGNATURE_MISSING', 'SK_ERR_SIGNATURE_MALFORMED', 'SK_ERR_SIGNATURE_BAD_COMPONENTS', 'SK_ERR_SIGNATURE_BAD_PARAMS',
    'SK_ERR_SIGNATURE_ALG', 'SK_ERR_SIGNATURE_TAG', 'SK_ERR_SIGNATURE_NONCE', 'SK_ERR_SIGNATURE_NON_ASCII',
    'SK_ERR_SIGNATURE_FUTURE', 'SK_ERR_SIGNATURE_LIFETIME', 'SK_ERR_SIGNATURE_EXPIRED', 'SK_ERR_SIGNATURE_DIGEST_MISMATCH',
    'SK_ERR_SIGNATURE_DIGEST_ALG', 'SK_ERR_SIGNATURE_UNKNOWN_KEY', 'SK_ERR_SIGNATURE_INVALID',
  ];
  assert.deepEqual(verifierCodes.filter((c) => !seen.has(c)), []);
  console.log(`bad inputs: ${cases.length} cases, ${seen.size} distinct codes`);
});

test('the signer refuses inputs it would otherwise sign wrongly', async () => {
  const base: RequestToSign = { method: 'GET', authority: AUTHORITY, target: '/v1/projects' };
  const cases: Array<[string, () => unknown, ErrorCode]> = [
    ['a lifetime over 60 s', () => signRequest(base, alice, { lifetimeSeconds: 61 }), 'SK_ERR_SIGNATURE_LIFETIME'],
    ['a zero lifetime', () => signRequest(base, alice, { lifetimeSeconds: 0 }), 'SK_ERR_SIGNATURE_LIFETIME'],
    ['a short nonce', () => signRequest(base, alice, { nonce: 'abc' }), 'SK_ERR_SIGNATURE_NONCE'],
    ['a body without a content type', () => signRequest({ ...base, method: 'POST', body: Buffer.from('{}') }, alice), 'SK_ERR_BAD_REQUEST'],
    ['a target without a leading slash', () => signRequest({ ...base, target: 'v1/projects' }, alice), 'SK_ERR_BAD_REQUEST'],
    ['a target with a fragment', () => signRequest({ ...base, target: '/v1/projects#x' }, alice), 'SK_ERR_BAD_REQUEST'],
    ['a target with a raw space', () => signRequest({ ...base, target: '/v1/my project' }, alice), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a target with raw unicode', () => signRequest({ ...base, target: '/v1/prøject' }, alice), 'SK_ERR_SIGNATURE_NON_ASCII'],
    ['a method that is not a token', () => signRequest({ ...base, method: 'GET /x' }, alice), 'SK_ERR_BAD_REQUEST'],
    ['a non-ASCII key id', () => signRequest(base, { ...alice, keyId: 'ключ' }), 'SK_ERR_BAD_REQUEST'],
    ['a public key instead of a private key', () => signRequest(base, { keyId: alice.keyId, privateKey: publicKeyObject(alice.publicKey) }), 'SK_ERR_KEY_FILE'],
  ];
  for (const [what, fn, expected] of cases) assert.equal(await codeOf(fn), expected, what);
});

test('peekKeyId reads the claimed key id without crypto and never throws', () => {
  assert.equal(peekKeyId(signed().headers), alice.keyId);
  assert.equal(peekKeyId({}), undefined);
  assert.equal(peekKeyId({ 'signature-input': 'garbage((' }), undefined);
  assert.equal(peekKeyId({ 'signature-input': ['a', 'b'] }), undefined);
  assert.equal(peekKeyId({ 'signature-input': 'sk=();keyid=5' }), undefined);
  assert.equal(peekKeyId({ 'signature-input': `sk=();keyid="${'x'.repeat(300)}"` }), undefined);
  assert.equal(peekKeyId({ 'signature-input': 'sk=();keyid="abc"' }), 'abc');
});

test('a failing key lookup or nonce store surfaces as SK_ERR_STORE, not as an untyped error', async () => {
  assert.equal(await codeOf(verify(signed(), { lookupKey: () => { throw new Error('db down'); } })), 'SK_ERR_STORE');
  assert.equal(await codeOf(verify(signed(), { nonces: { claim: () => Promise.reject(new Error('db down')) } })), 'SK_ERR_STORE');
  const locked = new SikkerKeyError('SK_ERR_RATE_LIMITED', 'slow down');
  assert.equal(await codeOf(verify(signed(), { lookupKey: () => { throw locked; } })), 'SK_ERR_RATE_LIMITED');
});

test('no input, however malformed, makes the verifier throw anything but a SikkerKeyError', async () => {
  const alphabet = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~\t\u0000\u007fé✓';
  const sfAlphabet = 'sk=()"@:;, ?1-0123456789abcdefghijklmnopqrstuvwxyzAB+/=*%\\';
  const randomText = (chars: string, max: number): string =>
    Array.from({ length: randomInt(0, max) }, () => chars[randomInt(0, chars.length)] as string).join('');
  const valid = signed();
  const mutateText = (s: string): string => {
    const i = randomInt(0, s.length + 1);
    const op = randomInt(0, 3);
    const c = sfAlphabet[randomInt(0, sfAlphabet.length)] as string;
    return op === 0 ? s.slice(0, i) + c + s.slice(i) : op === 1 ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + c + s.slice(i + 1);
  };
  let rejected = 0;
  let accepted = 0;
  const iterations = 3000;
  for (let n = 0; n < iterations; n += 1) {
    const headers: IncomingRequest['headers'] = { ...valid.headers };
    const mode = n % 3;
    const names = ['signature-input', 'signature', 'content-digest', 'content-type'];
    const pick = randomInt(1, 16); // a non-empty subset of the four headers
    for (const [bit, name] of names.entries()) {
      if ((pick & (1 << bit)) === 0) continue;
      headers[name] =
        mode === 0 ? randomText(alphabet, 80)
          : mode === 1 ? randomText(sfAlphabet, 120)
            : mutateText(String(headers[name] ?? ''));
    }
    const req: IncomingRequest = { ...valid, headers, target: randomInt(0, 10) === 0 ? randomText(alphabet, 30) : valid.target };
    try {
      await verify(req);
      // Only an edit that structured-field parsing (or header trimming) reads as the very same value
      // may pass: extra whitespace, or base64 padding bits (RFC 8941 §4.2.7 says not to fail on those).
      for (const name of names) {
        const [before, after] = [valid.headers[name], headers[name]] as [string, string];
        const same = name === 'content-type'
          ? before.trim() === after.trim()
          : serializeDictionary(parseDictionary(before)) === serializeDictionary(parseDictionary(after));
        assert.ok(same, `accepted a request whose ${name} differs in meaning: ${JSON.stringify(after)}`);
      }
      assert.equal(req.target, valid.target);
      accepted += 1;
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.ok(isSikkerKeyError(err), `untyped throw: ${String(err)}`);
      rejected += 1;
    }
  }
  const odd: unknown[] = [
    null, undefined, 42, 'GET /', {}, { method: 7, target: null, headers: null, body: 'x' },
    { ...valid, headers: { 'signature-input': 5, signature: {}, 'content-digest': [] } },
    { ...valid, headers: { ...valid.headers, signature: [7] } },
    { ...valid, body: 'not bytes' }, { ...valid, body: null }, { ...valid, method: undefined }, { ...valid, target: 12 },
  ];
  for (const input of odd) {
    const code = await codeOf(verify(input as IncomingRequest));
    assert.notEqual(code, 'accepted');
  }
  assert.equal((await codeOf(verifyRequest(valid, null as unknown as VerifyOptions))) !== 'accepted', true);
  console.log(`garbage: ${iterations} requests, ${rejected} rejected with a SikkerKeyError, ${accepted} equivalent re-spellings accepted`);
  assert.ok(rejected > iterations * 0.9);
});

test('the profile\'s constants are the ones DESIGN.md §2 fixes', () => {
  assert.equal(SIGNATURE_PROFILE.maxSkewSeconds, 30);
  assert.equal(SIGNATURE_PROFILE.maxLifetimeSeconds, 60);
  assert.equal(SIGNATURE_PROFILE.nonceMinBytes, 16);
  assert.equal(SIGNATURE_PROFILE.nonceMaxChars, 128);
  assert.equal(SIGNATURE_PROFILE.tag, 'sikkerkey/v1');
  assert.equal(SIGNATURE_PROFILE.label, 'sk');
  assert.deepEqual([...SIGNATURE_PROFILE.components], ['@method', '@authority', '@path', '@query', 'content-digest']);
  assert.ok(Object.isFrozen(SIGNATURE_PROFILE));
  // Unused here but part of the contract: the serialized inner list is what @signature-params carries.
  assert.equal(serializeInnerList([[['@method', new Map()]], new Map([['created', 1]])]), '("@method");created=1');
});

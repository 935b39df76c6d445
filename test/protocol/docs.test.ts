/**
 * docs/protocol.md must stay true: its worked examples are re-computed here from the code (and
 * cross-checked with a second Ed25519 implementation), and its error table from the registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import * as noble from '@noble/ed25519';
import { parseDictionary } from 'structured-headers';
import type { InnerList } from 'structured-headers';
import { buildSignatureBase, ed25519Verify, signRequest, verifyRequest } from '../../protocol/signing.js';
import { keyIdFromPublicKey, publicKeyObject, rawPublicKey } from '../../protocol/keys.js';
import { ERROR_CODES } from '../../protocol/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';
import { memoryNonceStore } from '../support/signing-fixtures.js';

const doc = readFileSync('docs/protocol.md', 'utf8');

/** The fenced block that follows `<!-- example:NAME -->`, without its final newline. */
function block(name: string): string {
  const marker = `<!-- example:${name} -->\n`;
  const at = doc.indexOf(marker);
  assert.ok(at !== -1, `docs/protocol.md lacks the ${name} example`);
  const open = doc.indexOf('\n', at + marker.length) + 1;
  assert.ok(doc.slice(at + marker.length, open).startsWith('```'), `${name}: no fenced block after the marker`);
  const close = doc.indexOf('\n```', open - 1);
  return doc.slice(open, close);
}

interface DocRequest { method: string; target: string; headers: Record<string, string>; body: Buffer }

function parseHttp(text: string): DocRequest {
  // The blank line after the headers; for a bodiless request it is the block's last line (body '').
  const split = text.endsWith('\n') && !text.slice(0, -1).includes('\n\n') ? text.length - 1 : text.indexOf('\n\n');
  assert.ok(split !== -1, 'an HTTP example needs a blank line after the headers');
  const [requestLine, ...headerLines] = text.slice(0, split).split('\n');
  const [method, target, version] = (requestLine as string).split(' ');
  assert.equal(version, 'HTTP/1.1');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(': ');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 2);
  }
  return { method: method as string, target: target as string, headers, body: Buffer.from(text.slice(split + 2), 'utf8') };
}

// The documented test key, made as the doc says: its Ed25519 seed is the SHA-256 of the phrase.
const seedOfDoc = createHash('sha256').update(block('test-key-phrase'), 'ascii').digest();
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seedOfDoc]), format: 'der', type: 'pkcs8' });
const raw = rawPublicKey(privateKey);
const keyId = keyIdFromPublicKey(raw);
noble.hashes.sha512 = ((m: Uint8Array) => new Uint8Array(createHash('sha512').update(m).digest())) as typeof noble.hashes.sha512;

test('the documented test key\'s public key and key id are what the code computes', () => {
  const lines = Object.fromEntries(block('public-key').split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
  assert.equal(lines['public key (raw, base64url)'], Buffer.from(raw).toString('base64url'));
  assert.equal(lines['public key (SPKI PEM)'], createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'));
  assert.equal(lines['key id'], keyId);
});

for (const name of ['put', 'get']) {
  test(`the ${name.toUpperCase()} worked example: headers, base and signature are what the code produces`, async () => {
    const req = parseHttp(block(`${name}-request`));
    const documentedBase = block(`${name}-base`);
    const member = parseDictionary(req.headers['signature-input'] as string).get('sk') as InnerList;
    const created = member[1].get('created') as number;
    const expires = member[1].get('expires') as number;
    const nonce = member[1].get('nonce') as string;
    const authority = req.headers.host as string;
    if (req.body.length > 0) assert.equal(Number(req.headers['content-length']), req.body.length, 'Content-Length matches the body');

    // 1. The signer, given the documented inputs, emits exactly the documented headers.
    const produced = signRequest(
      { method: req.method, authority, target: req.target, ...(req.body.length ? { body: req.body, contentType: req.headers['content-type'] as string } : {}) },
      { keyId, privateKey },
      { now: created, nonce, lifetimeSeconds: expires - created },
    );
    for (const [h, v] of Object.entries(produced)) assert.equal(req.headers[h], v, `header ${h}`);

    // 2. The documented base is the RFC 9421 base of that request.
    const q = req.target.indexOf('?');
    const components: Array<[string, string]> = [
      ['@method', req.method], ['@authority', authority],
      ['@path', q === -1 ? req.target : req.target.slice(0, q)], ['@query', q === -1 ? '?' : req.target.slice(q)],
      ['content-digest', req.headers['content-digest'] as string],
    ];
    if (req.body.length) components.push(['content-type', req.headers['content-type'] as string]);
    const base = buildSignatureBase(components, (req.headers['signature-input'] as string).slice('sk='.length));
    assert.equal(base, documentedBase);
    assert.ok(!documentedBase.endsWith('\n'));

    // 3. The documented signature is the Ed25519 signature of that base: node:crypto and noble agree.
    const sig = Buffer.from((parseDictionary(req.headers.signature as string).get('sk') as [ArrayBuffer, unknown])[0]);
    const baseBytes = Buffer.from(documentedBase, 'ascii');
    assert.equal(ed25519Verify(publicKeyObject(raw), baseBytes, sig), true);
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    assert.deepEqual(Buffer.from(noble.sign(baseBytes, seed)), sig, 'a second implementation signs the same bytes');
    assert.equal(noble.verify(sig, baseBytes, raw, { zip215: false }), true);

    // 4. The vault's verifier accepts the documented request at the documented time — once.
    const nonces = memoryNonceStore();
    const opts = { authority, lookupKey: (id: string) => (id === keyId ? publicKeyObject(raw) : undefined), nonces, now: () => created * 1000 };
    const verified = await verifyRequest({ method: req.method, target: req.target, headers: req.headers, body: req.body }, opts);
    assert.equal(verified.keyId, keyId);
    await assert.rejects(verifyRequest({ method: req.method, target: req.target, headers: req.headers, body: req.body }, opts), { code: 'SK_ERR_SIGNATURE_REPLAYED' });
  });
}

test('the documented error tables list every signature, rate-limit and identity code with its registry status', () => {
  const listed: ErrorCode[] = [
    ...(Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => c.startsWith('SK_ERR_SIGNATURE_')),
    'SK_ERR_RATE_LIMITED', 'SK_ERR_IP_NOT_ALLOWED', 'SK_ERR_FORBIDDEN', 'SK_ERR_NO_GRANT', 'SK_ERR_MACHINE_DISABLED',
    'SK_ERR_MACHINE_PENDING_APPROVAL', 'SK_ERR_MACHINE_EXPIRED', 'SK_ERR_MACHINE_CONSTRAINT', 'SK_ERR_CONSTRAINT_UNKNOWN',
    'SK_ERR_TOKEN_INVALID', 'SK_ERR_TOKEN_CONSTRAINT',
    'SK_ERR_SCOPE_MISSING', 'SK_ERR_AI_AGENT_DISABLED', 'SK_ERR_AI_AGENT_REVOKED', 'SK_ERR_AI_AGENT_RATE_LIMITED',
  ];
  for (const code of listed) {
    assert.ok(doc.includes(`| \`${code}\` | ${ERROR_CODES[code].status} |`), `docs/protocol.md lacks a row for ${code} with status ${ERROR_CODES[code].status}`);
  }
  const clientCodes: ErrorCode[] = ['SK_ERR_INSECURE_TRANSPORT', 'SK_ERR_TLS_CERT', 'SK_ERR_TLS_PIN', 'SK_ERR_CONNECT', 'SK_ERR_RESPONSE', 'SK_ERR_KEY_FILE', 'SK_ERR_PUBLIC_KEY'];
  for (const code of clientCodes) assert.ok(doc.includes(`| \`${code}\` |`), `docs/protocol.md lacks ${code}`);
  for (const code of doc.matchAll(/SK_ERR_[A-Z0-9_]+/g)) assert.ok(Object.hasOwn(ERROR_CODES, code[0]), `the doc names ${code[0]}, which is not registered`);
});

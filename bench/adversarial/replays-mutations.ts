/**
 * Categories 3 and 4 of the adversarial run, both built on freshly signed, valid requests of a
 * few kinds (operator and machine, reads and writes, with and without a body):
 *
 * - replays: each captured request is sent once and must be accepted, then sent again —
 *   unchanged, from another source address, with another Host header — and must be refused;
 * - mutations: a request that was never sent gets one covered component changed (method, path,
 *   query, authority, Content-Digest, body bytes, Content-Type, a Signature-Input parameter or
 *   the component list) or only its signature, and must be refused.
 *
 * Changes that RFC 9421 deliberately does not see are not mutations and are not generated: the
 * spelling of the structured fields (whitespace; parameter order is covered though), a bare `?`
 * (its @query is `?`, as without one), whitespace around a covered header's value (RFC 9421
 * §2.1 trims it) and the case of the authority.
 */
import { randomBytes, sign as cryptoSign, createHash } from 'node:crypto';
import { parseDictionary, serializeDictionary, serializeInnerList } from 'structured-headers';
import { buildSignatureBase } from '../../protocol/signing.js';
import { TEST_AUTHORITY } from '../../test/support/vault-app.js';
import type { InnerList, Item } from 'structured-headers';
import { FIXTURE, pool } from './harness.js';
import type { Harness, Rand, RawRequest } from './harness.js';
import type { Tally } from './tally.js';

/** The valid requests both categories start from. */
const KINDS: ReadonlyArray<{ name: string; weight: number; make(h: Harness, i: number): RawRequest }> = [
  { name: 'operator GET /v1/projects', weight: 3, make: (h) => h.signed(h.operator, 'GET', '/v1/projects') },
  { name: 'operator GET /v1/audit?limit=1&since=0', weight: 1, make: (h) => h.signed(h.operator, 'GET', '/v1/audit?limit=1&since=0') },
  { name: 'operator GET /v1/grants?project=shop', weight: 1, make: (h) => h.signed(h.operator, 'GET', `/v1/grants?project=${FIXTURE.project}`) },
  { name: 'machine GET secret', weight: 3, make: (h) => h.signed(h.machine, 'GET', `/v1/projects/${FIXTURE.project}/secrets/db`) },
  { name: 'machine GET secret ?waitForVersionAfter=0&wait=0', weight: 1, make: (h) => h.signed(h.machine, 'GET', `/v1/projects/${FIXTURE.project}/secrets/api?waitForVersionAfter=0&wait=0`) },
  { name: 'machine POST batchGet', weight: 2, make: (h) => h.signed(h.machine, 'POST', '/v1/secrets:batchGet', JSON.stringify({ items: [{ project: FIXTURE.project, name: 'db' }, { project: FIXTURE.project, name: 'api' }] })) },
  { name: 'machine GET /v1/agent/rotations?wait=0', weight: 1, make: (h) => h.signed(h.machine, 'GET', '/v1/agent/rotations?wait=0') },
  { name: 'operator PUT secret', weight: 2, make: (h, i) => h.signed(h.operator, 'PUT', `/v1/projects/${FIXTURE.replayProject}/secrets/replay-${i % 64}`, JSON.stringify({ value: `value-${i}` })) },
];
const WEIGHTED = KINDS.flatMap((k) => Array<typeof k>(k.weight).fill(k));

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

export interface ReplayResult { originals: number; originalsRefused: number; replays: number }

/** `n` captured requests, each sent once (must be accepted) and then replayed once (must be refused). */
export async function runReplays(h: Harness, tally: Tally, n: number, concurrency = 16): Promise<ReplayResult> {
  let originalsRefused = 0;
  await pool(n, concurrency, async (i) => {
    const kind = h.rand.pick(WEIGHTED);
    const req = kind.make(h, i);
    const source = h.address();
    const first = await h.send(req, { remoteAddress: source });
    if (!isOk(first.status)) {
      originalsRefused += 1;
      tally.fail('replays', 'setupFailures', `original ${kind.name} was refused: ${first.status} ${first.raw.slice(0, 200)}`);
    }
    const variant = i % 4;
    const replay: RawRequest = variant === 2 ? { ...req, headers: { ...req.headers, host: 'other.test:8200' } } : req;
    tally.check('replays', await h.send(replay, variant === 1 ? { remoteAddress: source } : {}), { mustRefuse: 'replay' });
  });
  return { originals: n, originalsRefused, replays: n };
}

// -- mutations ------------------------------------------------------------------------------

type Mutation = (h: Harness, req: RawRequest, r: Rand) => RawRequest | undefined;

const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

function sigInput(req: RawRequest): { list: InnerList; set(list: InnerList, label?: string): RawRequest } {
  const dict = parseDictionary(req.headers['signature-input'] as string);
  const list = dict.get('sk') as InnerList;
  return {
    list: [list[0].map(([v, p]): Item => [v, new Map(p)]), new Map(list[1])],
    set: (next, label = 'sk') => ({ ...req, headers: { ...req.headers, 'signature-input': serializeDictionary(new Map([[label, next]])) } }),
  };
}

function signatureBytes(req: RawRequest): Buffer {
  const item = parseDictionary(req.headers.signature as string).get('sk') as Item;
  return Buffer.from(item[0] as ArrayBuffer);
}

function withSignature(req: RawRequest, sig: Buffer): RawRequest {
  return { ...req, headers: { ...req.headers, signature: serializeDictionary(new Map([['sk', [new Uint8Array(sig).buffer, new Map()]]])) } };
}

function withParam(req: RawRequest, name: string, value: string | number | undefined): RawRequest {
  const s = sigInput(req);
  if (value === undefined) s.list[1].delete(name);
  else s.list[1].set(name, value);
  return s.set(s.list);
}

function digestHeader(body: Buffer, alg: 'sha256' | 'sha512'): string {
  return `${alg === 'sha256' ? 'sha-256' : 'sha-512'}=:${createHash(alg).update(body).digest('base64')}:`;
}

function flipBit(buf: Buffer, r: Rand): Buffer {
  const out = Buffer.from(buf);
  const at = r.int(0, out.length - 1);
  out[at] = (out[at] as number) ^ (1 << r.int(0, 7));
  return out;
}

/** Every mutation, by the component it changes. `undefined`: does not apply to this request. */
export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  'method': (_h, req, r) => ({ ...req, method: r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].filter((m) => m !== req.method)) }),
  'path: trailing slash': (_h, req) => ({ ...req, target: req.target.replace(/(\?|$)/, '/$1') }),
  'path: case': (_h, req) => ({ ...req, target: req.target.replace(/\/v1\/([a-z])/, (_m, c: string) => `/v1/${c.toUpperCase()}`) }),
  'path: percent-encoded letter': (_h, req) => ({ ...req, target: req.target.replace(/\/v1\/([a-z])/, (_m, c: string) => `/v1/%${c.charCodeAt(0).toString(16)}`) }),
  'path: double slash': (_h, req) => ({ ...req, target: req.target.replace('/v1/', '/v1//') }),
  'path: other secret': (_h, req) => (req.target.includes('/secrets/db') ? { ...req, target: req.target.replace('/secrets/db', '/secrets/api') }
    : req.target.includes('/secrets/api') ? { ...req, target: req.target.replace('/secrets/api', '/secrets/db') } : undefined),
  'path: dot segment': (_h, req) => ({ ...req, target: req.target.replace('/v1/', '/v1/./') }),
  'query: added': (_h, req) => ({ ...req, target: req.target.includes('?') ? `${req.target}&limit=2` : `${req.target}?wait=0` }),
  'query: dropped or changed': (_h, req) => (req.target.includes('?') ? { ...req, target: req.target.replace(/=\d+/, '=1') === req.target ? req.target.split('?')[0] as string : req.target.replace(/=\d+/, '=1') } : undefined),
  'query: reordered': (_h, req) => {
    const [path, q] = req.target.split('?');
    const parts = q?.split('&') ?? [];
    return parts.length > 1 ? { ...req, target: `${path}?${[...parts].reverse().join('&')}` } : undefined;
  },
  'authority': (h, req, r) => {
    const authority = r.pick(['evil.test:8200', 'vault.test:8201', 'vault.test', 'vault.test.:8200', 'vault.test:8200.evil', '127.0.0.1:8200', 'vault.test:08200']);
    const key = req.headers['signature-input']?.includes(h.machine.keyId) ? h.machine : h.operator;
    return h.signed(key, req.method, req.target, req.payload, { authority });
  },
  'content-digest: sha-512 of the same body': (_h, req) => ({ ...req, headers: { ...req.headers, 'content-digest': digestHeader(req.payload ?? Buffer.alloc(0), 'sha512') } }),
  'content-digest: second entry': (_h, req) => ({ ...req, headers: { ...req.headers, 'content-digest': `${req.headers['content-digest'] as string}, ${digestHeader(req.payload ?? Buffer.alloc(0), 'sha512')}` } }),
  'content-digest: another body': (_h, req) => ({ ...req, headers: { ...req.headers, 'content-digest': digestHeader(Buffer.from('{"other":true}'), 'sha256') } }),
  'body: bit flip': (_h, req, r) => (req.payload ? { ...req, payload: flipBit(req.payload, r) } : undefined),
  'body: bit flip, digest recomputed': (_h, req, r) => {
    if (!req.payload) return undefined;
    const payload = flipBit(req.payload, r);
    return { ...req, payload, headers: { ...req.headers, 'content-digest': digestHeader(payload, 'sha256') } };
  },
  'body: equivalent JSON, digest recomputed': (_h, req) => {
    if (!req.payload) return undefined;
    const payload = Buffer.concat([req.payload, Buffer.from(' ')]);
    return { ...req, payload, headers: { ...req.headers, 'content-digest': digestHeader(payload, 'sha256') } };
  },
  'body: added to a bodiless request': (_h, req) => (req.payload ? undefined
    : { ...req, payload: Buffer.from('{}'), headers: { ...req.headers, 'content-type': 'application/json', 'content-digest': digestHeader(Buffer.from('{}'), 'sha256') } }),
  'body: truncated': (_h, req) => (req.payload ? { ...req, payload: req.payload.subarray(0, req.payload.length - 1) } : undefined),
  'content-type': (_h, req, r) => (req.payload ? { ...req, headers: { ...req.headers, 'content-type': r.pick(['application/json; charset=utf-8', 'text/plain', 'Application/JSON', 'application/json;']) } } : undefined),
  'param: created': (_h, req, r) => withParam(req, 'created', (sigInput(req).list[1].get('created') as number) + r.pick([-5, -1, 1, 2])),
  'param: expires': (_h, req, r) => withParam(req, 'expires', (sigInput(req).list[1].get('expires') as number) + r.pick([-1, 1, -10])),
  'param: nonce': (_h, req) => withParam(req, 'nonce', randomBytes(32).toString('base64url')),
  'param: keyid': (h, req, r) => {
    const own = sigInput(req).list[1].get('keyid') as string;
    return withParam(req, 'keyid', r.pick([own === h.operator.keyId ? h.machine.keyId : h.operator.keyId, `${own}x`, own.slice(0, -1), 'unknown-key']));
  },
  'param: alg removed': (_h, req) => withParam(req, 'alg', undefined),
  'param: tag': (_h, req) => withParam(req, 'tag', 'sikkerkey/v2'),
  'components: reordered': (_h, req) => {
    const s = sigInput(req);
    return s.set([[...s.list[0]].reverse(), s.list[1]]);
  },
  'components: one dropped': (_h, req, r) => {
    const s = sigInput(req);
    const drop = r.int(0, s.list[0].length - 1);
    return s.set([s.list[0].filter((_c, i) => i !== drop), s.list[1]]);
  },
  'label': (_h, req) => {
    const s = sigInput(req);
    const sig = parseDictionary(req.headers.signature as string).get('sk') as Item;
    const moved = s.set(s.list, 'sig1');
    return { ...moved, headers: { ...moved.headers, signature: serializeDictionary(new Map([['sig1', sig]])) } };
  },
  'signature: bit flip': (_h, req, r) => withSignature(req, flipBit(signatureBytes(req), r)),
  'signature: zeros': (_h, req) => withSignature(req, Buffer.alloc(64)),
  'signature: S + L': (_h, req) => {
    const sig = signatureBytes(req);
    const s = BigInt(`0x${Buffer.from(sig.subarray(32)).reverse().toString('hex')}`) + ED25519_L;
    const bytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse();
    return bytes.length === 32 ? withSignature(req, Buffer.concat([sig.subarray(0, 32), bytes])) : undefined;
  },
  'signature: truncated or extended': (_h, req, r) => {
    const sig = signatureBytes(req);
    return withSignature(req, r() < 0.5 ? sig.subarray(0, 63) : Buffer.concat([sig, Buffer.alloc(1)]));
  },
  'signature: from another request': (h, req) => {
    const key = req.headers['signature-input']?.includes(h.machine.keyId) ? h.machine : h.operator;
    return { ...req, headers: { ...req.headers, signature: h.signed(key, req.method, req.target, req.payload).headers.signature as string } };
  },
  'signature: the other key over the same base': (h, req) => {
    // This request's exact signature base, signed by the other identity's key; keyid unchanged.
    const mine = req.headers['signature-input']?.includes(h.machine.keyId);
    const other = mine ? h.operator : h.machine;
    const list = sigInput(req).list;
    const [path, query] = req.target.split('?');
    const values: Record<string, string> = {
      '@method': req.method, '@authority': TEST_AUTHORITY, '@path': path as string, '@query': `?${query ?? ''}`,
      'content-digest': req.headers['content-digest'] as string, 'content-type': (req.headers['content-type'] as string | undefined) ?? '',
    };
    const base = buildSignatureBase(list[0].map(([name]) => [name as string, values[name as string] as string]), serializeInnerList(list));
    return withSignature(req, cryptoSign(null, Buffer.from(base, 'ascii'), other.privateKey));
  },
};

/** Sent over a real socket: inject would resolve the dot segment before the vault saw it. */
const OVER_TCP = new Set(['path: dot segment']);

export interface MutationResult { byMutation: Record<string, { requests: number; failed: number }> }

/** `n` mutated requests: mutations in turn, each on a fresh request of a random kind. */
export async function runMutations(h: Harness, tally: Tally, n: number, concurrency = 16): Promise<MutationResult> {
  const names = Object.keys(MUTATIONS);
  const byMutation: MutationResult['byMutation'] = Object.fromEntries(names.map((m) => [m, { requests: 0, failed: 0 }]));
  await pool(n, concurrency, async (i) => {
    // Each mutation in turn; one that does not apply to a request kind (a body flip on a GET, a
    // query reordering on a request with one parameter) goes through the other kinds in order,
    // so every mutation is tried whatever order concurrent requests draw random numbers in.
    const name = names[i % names.length] as string;
    for (let attempt = 0; attempt < KINDS.length; attempt += 1) {
      const base = (KINDS[(i + attempt) % KINDS.length] as (typeof KINDS)[number]).make(h, i);
      const mutated = (MUTATIONS[name] as Mutation)(h, base, h.rand);
      if (mutated === undefined) continue;
      const counts = byMutation[name] as { requests: number; failed: number };
      counts.requests += 1;
      const answer = await h.send(mutated, { tcp: OVER_TCP.has(name) });
      if (!tally.check('mutations', answer, { mustRefuse: 'mutation' })) counts.failed += 1;
      return;
    }
  });
  return { byMutation };
}

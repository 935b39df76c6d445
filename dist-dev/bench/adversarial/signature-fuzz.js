/**
 * Category 1 of the adversarial run: property-based fuzzing (fast-check) of the RFC 9421
 * parser and verifier. Each case rewrites Signature-Input, Signature and/or Content-Digest of a
 * validly signed request — structured-field shaped text from a small grammar, random edits of the
 * real header, huge parameters, unicode and control characters, repeated members, parameters and
 * whole headers — then
 *
 * - calls verifyRequest, peekKeyId and checkContentDigest directly: each may only throw a
 *   SikkerKeyError with a registered code (anything else is a "parser escape");
 * - sends the request to the vault: the answer must be a registered 4xx. The request it was made
 *   from was already sent and accepted, so even a rewrite that changes nothing is a replay, and
 *   any 2xx counts as an accepted mutation.
 */
import fc from 'fast-check';
import { ERROR_CODES, isErrorCode, SikkerKeyError } from '../../protocol/errors.js';
import { checkContentDigest } from '../../protocol/digest.js';
import { publicKeyObject } from '../../protocol/keys.js';
import { peekKeyId, verifyRequest } from '../../protocol/signing.js';
import { TEST_AUTHORITY } from '../../test/support/vault-app.js';
import { pool } from './harness.js';
/** Characters that matter to a structured-field parser, plus some that must never appear. */
const SF_CHARS = ['(', ')', '"', '\\', ';', '=', ',', ' ', '\t', ':', '?', '*', '%', '@', '-', '.', '0', '9', 'a', 'z', 'K', '/', '+', '\n', '\r', '\u0000', '\u007f', 'é', '€', '\ud83d\ude00', '\ud800', '\u202e', '\u200b'];
const PARAM_NAMES = ['created', 'expires', 'nonce', 'keyid', 'tag', 'alg', 'Created', 'keyId', 'x', '*', 'a-b'];
const HUGE = ['9'.repeat(16), '9'.repeat(40), '-9'.repeat(20), `"${'x'.repeat(5000)}"`, `:${'A'.repeat(6000)}:`, `${'a'.repeat(300)}`, '1.0000000000000001', '999999999999.999', '1e10', `"${'\\"'.repeat(500)}"`];
const sfChar = fc.constantFrom(...SF_CHARS);
const junk = fc.array(sfChar, { maxLength: 24 }).map((cs) => cs.join(''));
const token = fc.stringMatching(/^[a-z*][a-z0-9_.*-]{0,12}$/);
const sfString = fc.oneof(fc.string({ maxLength: 30 }).map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`), fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => `"${s}"`), fc.constant('"unterminated'));
const sfItem = fc.oneof(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String), fc.double({ noNaN: true }).map((d) => d.toFixed(3)), sfString, token, fc.uint8Array({ maxLength: 80 }).map((b) => `:${Buffer.from(b).toString('base64')}:`), fc.constantFrom('?0', '?1', '?2', '%"caf%c3%a9"', '%"bad%zz"', '@1700000000'), fc.constantFrom(...HUGE), junk);
const param = fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), token), fc.option(sfItem, { nil: undefined }))
    .map(([k, v]) => (v === undefined ? `;${k}` : `;${k}=${v}`));
const params = fc.array(param, { maxLength: 8 }).map((ps) => ps.join(''));
const component = fc.oneof(fc.constantFrom('"@method"', '"@authority"', '"@path"', '"@query"', '"content-digest"', '"content-type"', '"@target-uri"', '"@request-target"', '"@query-param";name="x"', '"content-digest";sf', '"@method";req'), sfItem);
const innerList = fc.tuple(fc.array(component, { maxLength: 8 }), params).map(([items, ps]) => `(${items.join(' ')})${ps}`);
const member = fc.tuple(fc.oneof(fc.constant('sk'), fc.constant('sk'), token, fc.constant('sha-256'), fc.constant('sha-512')), fc.oneof(innerList, sfItem, fc.constant('')))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`));
/** A structured-field Dictionary shaped string (often valid, often almost). */
const sfDictionary = fc.array(member, { minLength: 0, maxLength: 4 }).chain((ms) => fc.constantFrom(', ', ',', ' , ', ',,').map((sep) => ms.join(sep)));
const edit = fc.record({
    kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate', 'truncate'),
    at: fc.nat(),
    text: fc.oneof(junk, fc.constantFrom(...HUGE), fc.string({ unit: 'grapheme', maxLength: 4 }), param, fc.constantFrom(', sk=("@method")', ';nonce="AAAAAAAAAAAAAAAAAAAAAA"', ';created=1', ';keyid="x"')),
    len: fc.integer({ min: 1, max: 40 }),
});
function applyEdits(header, edits) {
    let s = header;
    for (const e of edits) {
        const at = s.length === 0 ? 0 : e.at % (s.length + 1);
        if (e.kind === 'insert')
            s = s.slice(0, at) + e.text + s.slice(at);
        else if (e.kind === 'delete')
            s = s.slice(0, at) + s.slice(at + e.len);
        else if (e.kind === 'replace')
            s = s.slice(0, at) + e.text + s.slice(at + e.len);
        else if (e.kind === 'duplicate')
            s = s.slice(0, at) + s.slice(at, at + e.len) + s.slice(at);
        else
            s = s.slice(0, at);
    }
    return s;
}
const plan = fc.oneof({ weight: 3, arbitrary: fc.constant({ mode: 'keep' }) }, { weight: 1, arbitrary: fc.constant({ mode: 'absent' }) }, { weight: 3, arbitrary: sfDictionary.map((value) => ({ mode: 'grammar', value })) }, { weight: 5, arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => ({ mode: 'edit', edits })) }, { weight: 1, arbitrary: fc.oneof(sfDictionary, fc.constant('')).map((second) => ({ mode: 'twice', second })) }, { weight: 1, arbitrary: fc.oneof(member.map((m) => `, ${m}`), fc.constantFrom(', sk=:AAAA:', ', sk=("@method");created=1', ' ', '\t', ',')).map((suffix) => ({ mode: 'append', suffix })) });
export const fuzzCase = fc.record({
    base: fc.nat(),
    signatureInput: plan,
    signature: plan,
    contentDigest: plan,
}).filter((c) => c.signatureInput.mode !== 'keep' || c.signature.mode !== 'keep' || c.contentDigest.mode !== 'keep');
function applyPlan(headers, name, p) {
    const original = headers[name];
    if (p.mode === 'keep')
        return;
    if (p.mode === 'absent')
        delete headers[name];
    else if (p.mode === 'grammar')
        headers[name] = p.value;
    else if (p.mode === 'edit')
        headers[name] = applyEdits(original, p.edits);
    else if (p.mode === 'twice')
        headers[name] = [original, p.second];
    else
        headers[name] = original + p.suffix;
}
export function applyCase(req, c) {
    const headers = { ...req.headers };
    applyPlan(headers, 'signature-input', c.signatureInput);
    applyPlan(headers, 'signature', c.signature);
    applyPlan(headers, 'content-digest', c.contentDigest);
    return { ...req, headers };
}
/** Outside HTTP: the verifier and its helpers throw registered SikkerKeyErrors only. */
async function checkDirect(h, tally, req) {
    const claimed = new Set();
    const nonces = { claim: async (keyId, hash) => !claimed.has(`${keyId}:${hash}`) && Boolean(claimed.add(`${keyId}:${hash}`)) };
    const keys = new Map([[h.operator.keyId, publicKeyObject(Buffer.from(h.operator.publicKey))], [h.machine.keyId, publicKeyObject(Buffer.from(h.machine.publicKey))]]);
    const escaped = (what, err) => {
        if (err instanceof SikkerKeyError && isErrorCode(err.code) && ERROR_CODES[err.code].status < 500)
            return;
        tally.fail('signature-fuzz', 'parserEscapes', `${what}: ${err instanceof Error ? `${err.name} ${err.message}` : String(err)} for ${JSON.stringify(req.headers).slice(0, 200)}`);
    };
    try {
        await verifyRequest({ method: req.method, target: req.target, headers: req.headers, body: req.payload ?? new Uint8Array(0) }, { authority: TEST_AUTHORITY, lookupKey: (id) => keys.get(id), nonces });
    }
    catch (err) {
        escaped('verifyRequest', err);
    }
    try {
        peekKeyId(req.headers);
    }
    catch (err) {
        tally.fail('signature-fuzz', 'parserEscapes', `peekKeyId threw: ${String(err)}`);
    }
    const digest = req.headers['content-digest'];
    if (typeof digest === 'string') {
        try {
            checkContentDigest(digest, req.payload ?? new Uint8Array(0));
        }
        catch (err) {
            escaped('checkContentDigest', err);
        }
    }
}
/**
 * Runs `n` fuzz cases (`workers` fast-check runs in parallel, seeds from the harness). Each
 * case's base is a validly signed request already sent once and accepted, refreshed every few
 * seconds so that signatures stay fresh; the fuzzed copy must be refused.
 */
export async function runSignatureFuzz(h, tally, n, workers = 8) {
    const bases = [];
    let basesAt = 0;
    let refreshing;
    const refresh = async () => {
        const fresh = [
            h.signed(h.operator, 'GET', '/v1/projects'),
            h.signed(h.operator, 'GET', '/v1/audit?limit=1'),
            h.signed(h.machine, 'GET', '/v1/projects/shop/secrets/db'),
            h.signed(h.operator, 'PUT', '/v1/projects/other/secrets/fuzz-target', JSON.stringify({ value: 'v' })),
            h.signed(h.machine, 'POST', '/v1/secrets:batchGet', JSON.stringify({ items: [{ project: 'shop', name: 'db' }] })),
        ];
        for (const r of fresh) {
            const res = await h.send(r);
            if (res.status < 200 || res.status >= 300)
                throw new Error(`signature-fuzz base ${r.method} ${r.target} was refused: ${res.status} ${res.raw}`);
        }
        bases.splice(0, bases.length, ...fresh);
        basesAt = Date.now();
    };
    const currentBases = async () => {
        if (Date.now() - basesAt > 10_000) {
            refreshing ??= refresh().finally(() => { refreshing = undefined; });
            await refreshing;
        }
        return bases;
    };
    await refresh();
    let cases = 0;
    const perWorker = Math.ceil(n / workers);
    await pool(workers, workers, async (w) => {
        const runs = Math.max(0, Math.min(perWorker, n - w * perWorker));
        if (runs === 0)
            return;
        await fc.assert(fc.asyncProperty(fuzzCase, async (c) => {
            const list = await currentBases();
            const req = applyCase(list[c.base % list.length], c);
            cases += 1;
            await checkDirect(h, tally, req);
            let answer;
            try {
                answer = await h.send(req);
            }
            catch (err) {
                // inject itself refuses some header values (e.g. characters Node cannot put in a header)
                // before any request exists: nothing reached the vault.
                if (err instanceof Error && /header|character/i.test(err.message))
                    return;
                throw err;
            }
            tally.check('signature-fuzz', answer, { mustRefuse: 'mutation' });
        }), { numRuns: runs, seed: h.rand.seed(), endOnFailure: true });
    });
    return { cases };
}
//# sourceMappingURL=signature-fuzz.js.map
/**
 * One correctly signed request (with a body and a query), then every single change we can name,
 * one at a time: each must be refused. Header-only edits test the cryptography; edits that are
 * re-signed with the right key (via an independent RFC 9421 signer) test the profile's own rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseDictionary, serializeDictionary } from 'structured-headers';
import { signRequest, verifyRequest } from '../../protocol/signing.js';
import { generateIdentityKey, publicKeyObject } from '../../protocol/keys.js';
import { computeContentDigest } from '../../protocol/digest.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { memoryNonceStore, signForInput } from '../support/signing-fixtures.js';
const NOW = 1_700_000_000;
const AUTHORITY = 'vault.example.com:8200';
const alice = generateIdentityKey();
const bob = generateIdentityKey();
const stranger = generateIdentityKey();
const keys = new Map([
    [alice.keyId, publicKeyObject(alice.publicKey)],
    [bob.keyId, publicKeyObject(bob.publicKey)],
]);
const PATH = '/v1/projects/pay%20ments/secrets/db~main/versions';
const QUERY = 'b=2&a=1';
const body = Buffer.from('{"value":"not-a-real-secret","fields":{"note":"grüße"}}');
const original = (() => {
    const target = `${PATH}?${QUERY}`;
    // A fixed nonce keeps the set of distinct mutations (and so N) the same on every run.
    const nonce = Buffer.alloc(32, 0x5a).toString('base64url');
    const headers = signRequest({ method: 'POST', authority: AUTHORITY, target, body, contentType: 'application/json' }, alice, { now: NOW, nonce });
    return { method: 'POST', target, headers: { host: AUTHORITY, 'content-length': String(body.length), ...headers }, body };
})();
const H = original.headers;
async function accepts(m, async) {
    try {
        await verifyRequest(m.req, { authority: m.authority, lookupKey: (id) => keys.get(id), nonces: memoryNonceStore(), now: () => NOW * 1000, async });
        return true;
    }
    catch (err) {
        assert.ok(isSikkerKeyError(err), `${m.name}: untyped throw ${String(err)}`);
        return false;
    }
}
function buildMutations() {
    const out = [];
    const add = (name, change) => {
        const { authority, ...reqChange } = change;
        out.push({ name, req: { ...original, ...reqChange, headers: reqChange.headers ?? { ...H } }, authority: authority ?? AUTHORITY });
    };
    const headers = (change) => {
        const next = { ...H, ...change };
        for (const [k, v] of Object.entries(change))
            if (v === undefined)
                delete next[k];
        return next;
    };
    const resign = (sigInput, extra = {}, key = alice) => {
        const h = headers({ ...extra, 'signature-input': sigInput });
        h.signature = signForInput({ ...original, headers: h }, AUTHORITY, sigInput, key.privateKey);
        return h;
    };
    const member = parseDictionary(H['signature-input']).get('sk');
    const inputWith = (edit, label = 'sk') => {
        const items = member[0].map((i) => [i[0], new Map(i[1])]);
        const params = new Map(member[1]);
        edit(items, params);
        return serializeDictionary(new Map([[label, [items, params]]]));
    };
    const setParam = (name, value) => (_i, p) => {
        if (value === undefined)
            p.delete(name);
        else
            p.set(name, value);
    };
    const otherLast = (v) => `${v.slice(0, -1)}${v.endsWith('A') ? 'Q' : 'A'}`; // still canonical base64url
    const charEdits = (s, skipFirst = false) => {
        const edits = [];
        for (let i = skipFirst ? 1 : 0; i < s.length; i += 1) {
            const c = s[i];
            edits.push([`delete char ${i}`, s.slice(0, i) + s.slice(i + 1)]);
            edits.push([`replace char ${i}`, s.slice(0, i) + (c === 'x' ? 'y' : 'x') + s.slice(i + 1)]);
            edits.push([`double char ${i}`, s.slice(0, i) + c + s.slice(i)]);
        }
        return edits;
    };
    // -- @method
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'post', 'Post', 'POSTT', 'POS']) {
        add(`method ${method}`, { method });
    }
    // -- @authority (what the verifier is configured with)
    for (const authority of [
        'vault.example.com', 'vault.example.com:8201', 'vault.example.com:80', 'vault.example.com:443', 'evil.example.com:8200',
        'vault.example.org:8200', 'vault.example.com.:8200', '127.0.0.1:8200', '[::1]:8200', 'localhost:8200',
        'vault.example.com:08200', 'xvault.example.com:8200', 'ault.example.com:8200', 'vault-example.com:8200', '',
    ])
        add(`authority ${JSON.stringify(authority)}`, { authority });
    // -- @path: every single-character edit, then re-encodings that decode to the same resource
    for (const [what, path] of charEdits(PATH))
        add(`path ${what}`, { target: `${path}?${QUERY}` });
    const reencoded = [
        ['~ as %7E', PATH.replace('~', '%7E')],
        ['~ as %7e', PATH.replace('~', '%7e')],
        ['%20 as +', PATH.replace('%20', '+')],
        ['%20 as a raw space', PATH.replace('%20', ' ')],
        ['%20 double-encoded', PATH.replace('%20', '%2520')],
        ['e as %65', PATH.replace('secrets', 's%65crets')],
        ['trailing slash', `${PATH}/`],
        ['leading double slash', `/${PATH}`],
        ['a /./ segment', PATH.replace('/secrets', '/./secrets')],
        ['a /x/../ detour', PATH.replace('/secrets', '/x/../secrets')],
        ['upper-cased', PATH.toUpperCase()],
        ['empty path', ''],
        ['root path', '/'],
    ];
    const slashes = [...PATH].flatMap((c, i) => (c === '/' && i > 0 ? [i] : []));
    for (const i of slashes) {
        reencoded.push([`slash ${i} as %2F`, `${PATH.slice(0, i)}%2F${PATH.slice(i + 1)}`]);
        reencoded.push([`slash ${i} as %2f`, `${PATH.slice(0, i)}%2f${PATH.slice(i + 1)}`]);
    }
    for (const [what, path] of reencoded)
        add(`path ${what}`, { target: `${path}?${QUERY}` });
    // -- @query
    for (const [what, q] of charEdits(QUERY))
        add(`query ${what}`, { target: `${PATH}?${q}` });
    for (const [what, target] of [
        ['reordered', `${PATH}?a=1&b=2`],
        ['removed', PATH],
        ['emptied', `${PATH}?`],
        ['a parameter added', `${PATH}?${QUERY}&c=3`],
        ['a parameter added first', `${PATH}?c=3&${QUERY}`],
        ['a parameter dropped', `${PATH}?b=2`],
        ['a parameter repeated', `${PATH}?b=2&b=2&a=1`],
        ['a value percent-encoded', `${PATH}?b=%32&a=1`],
        ['a name percent-encoded', `${PATH}?%62=2&a=1`],
        ['a trailing &', `${PATH}?${QUERY}&`],
        ['; instead of &', `${PATH}?b=2;a=1`],
        ['a fragment appended', `${PATH}?${QUERY}#frag`],
        ['moved into the path', `${PATH}/b=2&a=1`],
    ])
        add(`query ${what}`, { target });
    // -- signature parameters: changed (header only), changed and re-signed, removed, duplicated, unknown added
    const changes = [
        ['created', NOW + 1], ['created', NOW - 1], ['created', NOW - 25], ['created', 0],
        ['expires', NOW + 31], ['expires', NOW + 29], ['expires', NOW + 60],
        ['nonce', randomBytes(32).toString('base64url')], ['nonce', otherLast(member[1].get('nonce'))],
        ['keyid', bob.keyId], ['keyid', stranger.keyId], ['keyid', otherLast(alice.keyId)],
        ['alg', 'ed448'], ['alg', 'hmac-sha256'],
        ['tag', 'sikkerkey/v2'], ['tag', 'other'],
    ];
    for (const [name, value] of changes) {
        add(`param ${name}=${String(value)} (header only)`, { headers: headers({ 'signature-input': inputWith(setParam(name, value)) }) });
    }
    // Re-signed with alice's key: only changes that break a rule (a re-signed legitimate change is a new, valid request).
    const ruleBreaking = [
        ['created', NOW + 31 + 30], ['expires', NOW + 61], ['expires', NOW], ['expires', NOW - 40],
        ['nonce', 'short'], ['nonce', randomBytes(15).toString('base64url')], ['nonce', 'a'.repeat(129)],
        ['keyid', bob.keyId], ['keyid', stranger.keyId], ['keyid', ''],
        ['alg', 'ed448'], ['alg', 'rsa-v1_5-sha256'], ['tag', 'sikkerkey/v2'], ['tag', ''],
        ['created', String(NOW)], ['expires', NOW + 30.5], ['nonce', 42], ['keyid', true],
        ['created', undefined], ['expires', undefined], ['nonce', undefined], ['keyid', undefined], ['tag', undefined],
    ];
    for (const [name, value] of ruleBreaking) {
        add(`param ${name}=${String(value)} (re-signed)`, { headers: resign(inputWith(setParam(name, value))) });
    }
    for (const name of ['created', 'expires', 'nonce', 'keyid', 'alg', 'tag']) {
        add(`param ${name} removed (header only)`, { headers: headers({ 'signature-input': inputWith(setParam(name, undefined)) }) });
        const value = member[1].get(name);
        const serialized = serializeDictionary(new Map([['x', [true, new Map([[name, value]])]]])).slice(1); // ";name=value"
        const sigInput = H['signature-input'];
        add(`param ${name} duplicated, same value (header only)`, { headers: headers({ 'signature-input': `${sigInput}${serialized}` }) });
        add(`param ${name} duplicated, same value (re-signed)`, { headers: resign(`${sigInput}${serialized}`) });
        add(`param ${name} duplicated first (re-signed)`, { headers: resign(sigInput.replace(';created=', `${serialized};created=`)) });
    }
    for (const extra of [';foo="bar"', ';req', ';context="x"', ';created2=1', ';key="x"', ';alg2="ed25519"']) {
        add(`unknown param ${extra} (header only)`, { headers: headers({ 'signature-input': `${H['signature-input']}${extra}` }) });
        add(`unknown param ${extra} (re-signed)`, { headers: resign(`${H['signature-input']}${extra}`) });
    }
    add('params reordered (header only)', { headers: headers({ 'signature-input': H['signature-input'].replace(/;nonce=("[^"]*");keyid=("[^"]*")/, ';keyid=$2;nonce=$1') }) });
    // -- covered components
    const names = member[0].map((i) => i[0]);
    for (const drop of names) {
        const without = (items) => { items.splice(names.indexOf(drop), 1); };
        add(`component ${drop} removed (header only)`, { headers: headers({ 'signature-input': inputWith(without) }) });
        add(`component ${drop} removed (re-signed)`, { headers: resign(inputWith(without)) });
        add(`component ${drop} duplicated (re-signed)`, { headers: resign(inputWith((items) => { items.push([drop, new Map()]); })) });
    }
    for (const extra of ['host', 'content-length']) {
        add(`component ${extra} added (re-signed)`, { headers: resign(inputWith((items) => { items.push([extra, new Map()]); })) });
    }
    add('component @query with ;req (re-signed)', { headers: resign(inputWith((items) => { items[3][1].set('req', true); })) });
    add('component content-digest with ;sf (re-signed)', { headers: resign(inputWith((items) => { items[4][1].set('sf', true); })) });
    for (let i = 0; i + 1 < names.length; i += 1) {
        add(`components ${i} and ${i + 1} swapped (header only)`, {
            headers: headers({ 'signature-input': inputWith((items) => { const a = items[i]; items[i] = items[i + 1]; items[i + 1] = a; }) }),
        });
    }
    // -- body: every byte changed, plus length changes
    for (let i = 0; i < body.length; i += 1) {
        const changed = Buffer.from(body);
        changed.writeUInt8(changed.readUInt8(i) ^ 0x01, i);
        add(`body byte ${i} changed`, { body: changed });
    }
    add('body with a byte appended', { body: Buffer.concat([body, Buffer.from(' ')]) });
    add('body with a byte prepended', { body: Buffer.concat([Buffer.from(' '), body]) });
    add('body truncated by one byte', { body: body.subarray(0, -1) });
    add('body emptied', { body: Buffer.alloc(0) });
    add('body re-serialized without the unicode', { body: Buffer.from(JSON.stringify(JSON.parse(body.toString())).replace('ü', '\\u00fc')) });
    // -- content-type
    for (const ct of ['text/plain', 'application/json; charset=utf-8', 'Application/json', 'application/jsonx', 'application/x-www-form-urlencoded', '']) {
        add(`content-type ${JSON.stringify(ct)}`, { headers: headers({ 'content-type': ct }) });
    }
    add('content-type removed', { headers: headers({ 'content-type': undefined }) });
    // -- signature: every bit of every byte
    const sig = Buffer.from(parseDictionary(H.signature).get('sk')[0]);
    for (let byte = 0; byte < sig.length; byte += 1) {
        for (let bit = 0; bit < 8; bit += 1) {
            const flipped = Buffer.from(sig);
            flipped.writeUInt8(flipped.readUInt8(byte) ^ (1 << bit), byte);
            add(`signature byte ${byte} bit ${bit} flipped`, { headers: headers({ signature: `sk=:${flipped.toString('base64')}:` }) });
        }
    }
    add('signature truncated', { headers: headers({ signature: `sk=:${sig.subarray(0, 63).toString('base64')}:` }) });
    add('signature extended', { headers: headers({ signature: `sk=:${Buffer.concat([sig, Buffer.alloc(1)]).toString('base64')}:` }) });
    add('signature of another request', { headers: headers({ signature: signRequest({ method: 'GET', authority: AUTHORITY, target: PATH }, alice, { now: NOW }).signature }) });
    // -- labels
    add('label changed in Signature', { headers: headers({ signature: H.signature.replace(/^sk=/, 'sig=') }) });
    add('label changed in Signature-Input', { headers: headers({ 'signature-input': H['signature-input'].replace(/^sk=/, 'sig=') }) });
    add('label changed in both', { headers: headers({ signature: H.signature.replace(/^sk=/, 'sig='), 'signature-input': H['signature-input'].replace(/^sk=/, 'sig=') }) });
    add('label changed in both (re-signed)', { headers: resign(inputWith(() => undefined, 'sig1')) });
    add('a second signature added', {
        headers: headers({ 'signature-input': `${H['signature-input']}, sk2=("@method");created=${NOW}`, signature: `${H.signature}, sk2=:${sig.toString('base64')}:` }),
    });
    // -- Content-Digest
    add('Content-Digest of another body', { headers: headers({ 'content-digest': computeContentDigest('{"value":"x"}') }) });
    add('Content-Digest of the empty body', { headers: headers({ 'content-digest': computeContentDigest('') }) });
    add('Content-Digest as sha-512 of the same body', { headers: headers({ 'content-digest': computeContentDigest(body, 'sha-512') }) });
    add('Content-Digest with sha-512 added', { headers: headers({ 'content-digest': `${H['content-digest']}, ${computeContentDigest(body, 'sha-512')}` }) });
    add('Content-Digest of another body, body swapped to match', { headers: headers({ 'content-digest': computeContentDigest('{"value":"x"}') }), body: Buffer.from('{"value":"x"}') });
    add('Content-Digest removed', { headers: headers({ 'content-digest': undefined }) });
    // -- duplicated headers
    for (const name of ['signature-input', 'signature', 'content-digest', 'content-type']) {
        const v = H[name];
        add(`${name} twice (array)`, { headers: headers({ [name]: [v, v] }) });
        add(`${name} twice (joined)`, { headers: headers({ [name]: `${v}, ${v}` }) });
    }
    add('content-type twice with different values (array)', { headers: headers({ 'content-type': ['application/json', 'text/plain'] }) });
    add('content-digest twice with different values (array)', { headers: headers({ 'content-digest': [H['content-digest'], computeContentDigest('')] }) });
    return out;
}
test('every single change to a signed request is refused', async () => {
    const control = { name: 'unchanged', req: original, authority: AUTHORITY };
    assert.equal(await accepts(control, false), true, 'the unmutated request must verify (sync)');
    assert.equal(await accepts(control, true), true, 'the unmutated request must verify (async)');
    const fingerprint = (m) => JSON.stringify([m.req.method, m.req.target, m.authority, Object.entries(m.req.headers).sort(), Buffer.from(m.req.body).toString('hex')]);
    const seen = new Set([fingerprint(control)]);
    const unique = [];
    for (const m of buildMutations()) {
        const f = fingerprint(m);
        if (seen.has(f))
            continue; // two edits that produce the same request count once
        seen.add(f);
        unique.push(m);
    }
    const acceptedNames = [];
    for (const m of unique) {
        const sync = await accepts(m, false);
        const async = await accepts(m, true);
        if (sync || async)
            acceptedNames.push(m.name);
    }
    console.log(`mutations: ${unique.length} tried, ${acceptedNames.length} accepted`);
    assert.deepEqual(acceptedNames, []);
    assert.ok(unique.length >= 500, `only ${unique.length} mutations`);
});
//# sourceMappingURL=mutation.test.js.map
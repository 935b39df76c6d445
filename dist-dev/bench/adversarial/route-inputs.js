/**
 * Category 2 of the adversarial run: every route's inputs, through validly signed requests from
 * the operator key and from a machine key (AI-agent keys do not exist yet, so no route is tried
 * with one). The routes come from fastify's onRoute; path parameters, query strings and bodies
 * are generated from each route's JSON schema — often valid (names that exist, so requests reach
 * the handlers), often hostile: wrong types, huge numbers, NaN-ish and numeric-looking strings,
 * path traversal, unicode, very long strings, prototype-pollution keys, duplicate query keys,
 * bodies that are not JSON or not objects. Every answer must be a 2xx or a registered 4xx.
 * Object.prototype is checked for new properties afterwards.
 */
import fc from 'fast-check';
import { FIXTURE, pool } from './harness.js';
const LONG = 'A'.repeat(70_000);
/** Values no schema should accept as they are (for a string field: most of them have the wrong type). */
const HOSTILE_VALUES = [
    null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, [], [1, 'a'], {}, { a: 1 },
    '', ' ', 'NaN', 'Infinity', '-Infinity', '1e400', '0x10', '0b1', '١٢٣', '1_000', '+1', '-0', '00001', '9'.repeat(400),
    '../../../../etc/passwd', '..\\..\\windows\\win.ini', '%2e%2e%2f%2e%2e%2f', '....//....//', '/etc/passwd\u0000.txt',
    'ü', 'Ω≈ç√', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\u202egnp.exe', '\u200b', '\ud800', '\u0000', '\r\nX-Injected: 1', '<script>alert(1)</script>',
    "' OR 1=1 --", '"; DROP TABLE secrets; --', '${jndi:ldap://x}', '{{7*7}}', '%s%s%s%n', 'a'.repeat(129), 'a'.repeat(300), LONG,
    '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
];
/** JSON texts of objects with prototype-pollution keys (JSON.parse makes them own properties). */
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];
/** Values that exist in the fixture, by property or parameter name. */
function knownValues(name) {
    switch (name) {
        case 'project': return [FIXTURE.project, FIXTURE.otherProject, 'missing-project'];
        case 'name': return ['db', 'api', 'db-admin', 'new-secret', 'victim-1'];
        case 'secret':
        case 'adminSecret': return FIXTURE.secrets;
        case 'machine': return [...FIXTURE.victimMachines, 'no-such-machine'];
        case 'provider': return ['postgres', 'mysql', 'redis', 'mongodb', 'nope'];
        case 'strategy': return ['single', 'dual', 'alternate'];
        case 'schedule': return ['@daily', '0 3 * * *', '*/5 * * * *', '61 25 * * *'];
        case 'timezone': return ['UTC', 'Europe/Oslo', 'Mars/Olympus'];
        case 'by':
        case 'expiresIn':
        case 'lifetime':
        case 'machineLifetime':
        case 'grace': return ['1h', '30d', '7d', '0s', '99999d'];
        case 'timeWindow': return ['Mon-Fri 08:00-18:00', '00:00-24:00', 'bad'];
        case 'hostnameRegex': return ['^web-[0-9]+$', '(a+)+$', '(?=x)'];
        case 'ipAllowlist':
        case 'sourceCidrs': return [['10.0.0.0/8'], ['::1/128'], ['999.1.1.1/40']];
        case 'countryAllowlist': return [['NO'], ['XX']];
        case 'id': return ['1', 'does-not-exist', '00000000-0000-0000-0000-000000000000'];
        default: return undefined;
    }
}
/** Long-polls must not hold the run: their wait is 0 or something the schema refuses. */
const WAIT_VALUES = [0, '0', -1, 61, 'soon', '1e400', 1.5, null];
/** A value for `schema`: mostly valid, sometimes hostile. */
function valueArb(schema, name) {
    if (name === 'wait')
        return fc.constantFrom(...WAIT_VALUES);
    const hostile = fc.constantFrom(...HOSTILE_VALUES);
    return fc.oneof({ weight: 8, arbitrary: validArb(schema ?? {}, name) }, { weight: 2, arbitrary: hostile });
}
function validArb(schema, name) {
    if (Array.isArray(schema.enum) && schema.enum.length > 0)
        return fc.constantFrom(...schema.enum);
    const known = knownValues(name);
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    const inner = (() => {
        switch (type) {
            case 'string': {
                const maxLength = Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 64, 64);
                const minLength = typeof schema.minLength === 'number' ? Math.min(schema.minLength, maxLength) : 0;
                if (typeof schema.pattern === 'string')
                    return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= minLength && s.length <= 128);
                return fc.string({ minLength, maxLength });
            }
            case 'integer': {
                const min = typeof schema.minimum === 'number' ? schema.minimum : -1000;
                const max = typeof schema.maximum === 'number' ? schema.maximum : 1000;
                return fc.oneof(fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }), fc.constantFrom(min, max, max + 1, min - 1));
            }
            case 'number': return fc.double();
            case 'boolean': return fc.boolean();
            case 'array': {
                const items = (schema.items ?? {});
                const maxLength = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 4, 4);
                return fc.array(valueArb(items, name), { minLength: typeof schema.minItems === 'number' ? Math.min(schema.minItems, maxLength) : 0, maxLength });
            }
            case 'object': return objectArb(schema);
            default: return fc.anything({ maxDepth: 2 });
        }
    })();
    return known ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: inner }) : inner;
}
/** An object for an object schema: each property present or not, plus sometimes extra and pollution keys. */
function objectArb(schema) {
    const props = (schema.properties ?? {});
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const entries = Object.entries(props).map(([k, s]) => fc.tuple(fc.constant(k), 
    // A required property is nearly always there; an optional one about half the time.
    fc.double({ min: 0, max: 1, noNaN: true }).map((p) => p < (required.has(k) ? 0.93 : 0.5)), valueArb(s, k)));
    const extraSchema = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
    const extras = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...POLLUTION_KEYS, 'extra', 'Name', ''), fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/)), valueArb(extraSchema, 'extra')), { maxLength: 3 });
    return fc.tuple(fc.tuple(...entries), fc.double({ min: 0, max: 1, noNaN: true }), extras).map(([chosen, pExtra, extra]) => {
        const out = {};
        for (const [k, present, value] of chosen)
            if (present)
                out[k] = value;
        if (pExtra < 0.25) {
            // Own properties named __proto__ and friends, as JSON.parse would make them.
            for (const [k, value] of extra)
                Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
        }
        return out;
    });
}
/** Percent-encodes the UTF-8 bytes of `s` (a lone surrogate becomes U+FFFD; never throws, unlike encodeURIComponent). */
function pct(s) {
    let out = '';
    for (const b of Buffer.from(s, 'utf8')) {
        const c = String.fromCharCode(b);
        out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
}
function encodeSegment(value, rawish) {
    const s = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
    const encoded = pct(s.length > 3000 ? s.slice(0, 3000) : s);
    // Sometimes keep the separators that matter to a router raw: traversal, double encoding.
    return rawish ? encoded.replace(/%2F/gi, '/').replace(/%25/g, '%').replace(/%5C/gi, '\\') : encoded;
}
function queryString(query, duplicate) {
    const parts = [];
    for (const [k, v] of Object.entries(query)) {
        const values = Array.isArray(v) ? v : [v];
        for (const one of values)
            parts.push(`${pct(k)}=${pct(typeof one === 'string' ? one.slice(0, 3000) : JSON.stringify(one) ?? '')}`);
        if (duplicate)
            parts.push(`${pct(k)}=1`);
    }
    return parts.length > 0 ? `?${parts.join('&')}` : '';
}
function routeCaseArb(route) {
    const schema = (route.schema ?? {});
    const paramNames = [...route.url.replaceAll('::', '').matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    const paramProps = (schema.params?.properties ?? {});
    const params = fc.tuple(...paramNames.map((p) => valueArb(paramProps[p], p))).map((vs) => Object.fromEntries(paramNames.map((p, i) => [p, vs[i]])));
    const query = schema.querystring ? objectArb(schema.querystring) : fc.oneof(fc.constant({}), fc.record({ x: fc.constantFrom(...HOSTILE_VALUES) }));
    const withWait = query.map((q) => ('wait' in (schema.querystring?.properties ?? {}) && !('wait' in q) ? { ...q, wait: 0 } : q));
    const body = schema.body ? objectArb(schema.body) : fc.oneof(fc.constant(undefined), fc.anything({ maxDepth: 2 }));
    return fc.record({
        params, query: withWait, body,
        bodyForm: fc.constantFrom('json', 'json', 'json', 'json', 'json', 'json', 'none', 'not-json', 'array', 'scalar', 'wrong-type'),
        rawish: fc.boolean(), duplicateQuery: fc.double({ min: 0, max: 1, noNaN: true }).map((p) => p < 0.1), asMachine: fc.boolean(),
    });
}
function buildRequest(h, route, c) {
    const method = String(route.method);
    // `::` in a fastify route is a literal colon (`/v1/secrets::batchGet` is /v1/secrets:batchGet).
    let path = route.url.replaceAll('::', '\u0000');
    for (const [k, v] of Object.entries(c.params))
        path = path.replace(`:${k}`, encodeSegment(v, c.rawish));
    path = path.replaceAll('\u0000', ':');
    const target = path + queryString(c.query, c.duplicateQuery);
    const key = c.asMachine ? h.machine : h.operator;
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || c.bodyForm === 'none' || c.body === undefined)
        return h.signed(key, method, target);
    const text = c.bodyForm === 'not-json' ? `{"unterminated": ${JSON.stringify(String(c.body)).slice(0, 50)}`
        : c.bodyForm === 'array' ? JSON.stringify([c.body])
            : c.bodyForm === 'scalar' ? JSON.stringify(JSON.stringify(c.body) ?? 'x')
                : JSON.stringify(c.body) ?? 'null';
    return h.signed(key, method, target, text, c.bodyForm === 'wrong-type' ? { contentType: 'text/plain' } : {});
}
/** Runs about `n` requests spread over every route (operator and machine key alike). */
export async function runRouteInputs(h, tally, n, concurrency = 16) {
    const before = Object.getOwnPropertyNames(Object.prototype).length;
    const routes = h.routes;
    // Every route gets an equal share (HEAD routes included), the rest go to random routes; cases
    // are drawn as the requests go (one fast-check seed each) so the event loop stays responsive.
    const per = Math.max(1, Math.floor(n / routes.length));
    const order = [];
    for (const route of routes)
        for (let i = 0; i < per; i += 1)
            order.push(route);
    while (order.length < n)
        order.push(h.rand.pick(routes));
    order.length = n;
    for (let i = order.length - 1; i > 0; i -= 1) {
        const j = h.rand.int(0, i);
        [order[i], order[j]] = [order[j], order[i]];
    }
    const arbs = new Map();
    const unsendable = [];
    await pool(order.length, concurrency, async (i) => {
        const route = order[i];
        let arb = arbs.get(route);
        if (!arb)
            arbs.set(route, arb = routeCaseArb(route));
        // A case no client could sign (the signer refuses it) is not a request: draw another.
        for (let attempt = 0; attempt < 10; attempt += 1) {
            const c = fc.sample(arb, { seed: h.rand.seed(), numRuns: 1 })[0];
            let req;
            try {
                req = buildRequest(h, route, c);
            }
            catch (err) {
                if (unsendable.length < 5)
                    unsendable.push(`${String(route.method)} ${route.url}: ${err instanceof Error ? err.message : String(err)}`);
                continue;
            }
            tally.check('route-inputs', await h.send(req));
            return;
        }
    });
    const after = Object.getOwnPropertyNames(Object.prototype).length;
    const probe = {};
    if (after !== before || probe.polluted !== undefined || probe.isAdmin !== undefined) {
        tally.fail('route-inputs', 'prototypePolluted', `Object.prototype has ${after - before} new properties`);
    }
    return { routes: routes.length, unsendable };
}
//# sourceMappingURL=route-inputs.js.map
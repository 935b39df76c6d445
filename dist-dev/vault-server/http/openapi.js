import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIGNATURE_PROFILE } from '../../protocol/signing.js';
import { ERROR_CODES } from '../../protocol/errors.js';
import { API_ENUMS } from './api-states.js';
export function createRouteCatalog() {
    const seen = [];
    return {
        record(route) {
            const config = (route.config ?? {});
            for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
                seen.push({
                    method: String(method).toUpperCase(), url: route.url,
                    // authenticate.ts treats a route without `auth` as unauthenticated: say so.
                    auth: config.auth ?? 'none', ...(config.minRole ? { minRole: config.minRole } : {}),
                    schema: (route.schema ?? {}),
                });
            }
        },
        routes() {
            const gets = new Set(seen.filter((r) => r.method === 'GET').map((r) => r.url));
            return seen.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
        },
    };
}
/**
 * fastify's path syntax → OpenAPI's: `:name` → `{name}`, a regex constraint `:id(^\d+)` dropped
 * (kept as the parameter's `pattern`), `::` → a literal `:`, a trailing `*` → `{wildcard}`.
 */
export function openApiPath(url) {
    let path = '';
    const params = [];
    for (let i = 0; i < url.length;) {
        const c = url[i];
        if (c === ':' && url[i + 1] === ':') {
            path += ':';
            i += 2;
            continue;
        }
        if (c === ':') {
            let j = i + 1;
            while (j < url.length && /[A-Za-z0-9_]/.test(url[j]))
                j++;
            const name = url.slice(i + 1, j);
            let pattern;
            if (url[j] === '(') {
                let depth = 0;
                let k = j;
                for (; k < url.length; k++) {
                    if (url[k] === '\\') {
                        k++;
                        continue;
                    }
                    if (url[k] === '(')
                        depth++;
                    if (url[k] === ')' && --depth === 0)
                        break;
                }
                pattern = url.slice(j + 1, k);
                j = k + 1;
            }
            params.push({ name, ...(pattern !== undefined ? { pattern } : {}) });
            path += `{${name}}`;
            i = j;
            continue;
        }
        if (c === '*') {
            params.push({ name: 'wildcard' });
            path += '{wildcard}';
            i++;
            continue;
        }
        path += c;
        i++;
    }
    return { path, params };
}
/** `GET /v1/projects/{project}/secrets` → `getV1ProjectsByProjectSecrets`. */
export function operationId(method, path) {
    const words = path.split(/[/:]/).filter(Boolean).map((seg) => {
        const param = /^\{(.+)\}$/.exec(seg);
        const word = (param ? `by-${param[1]}` : seg).split(/[^A-Za-z0-9]+/).filter(Boolean);
        return word.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
    });
    return method.toLowerCase() + words.join('');
}
export const SIGNATURE_SCHEME = 'sikkerkeySignature';
const ERROR_SCHEMA = {
    type: 'object', required: ['error'], additionalProperties: false,
    properties: {
        error: {
            type: 'object', required: ['code', 'message'],
            description: 'Branch on `code`; `message` is for people and may change. Some errors carry more non-secret fields (e.g. `retryAfter`).',
            properties: {
                code: { type: 'string', enum: Object.keys(ERROR_CODES) },
                message: { type: 'string' },
            },
        },
    },
};
function signatureDescription() {
    const p = SIGNATURE_PROFILE;
    return [
        'Every authenticated request is signed with the caller\'s Ed25519 key: a strict profile of RFC 9421 (HTTP Message Signatures) with RFC 9530 Content-Digest. No bearer token exists; this scheme is declared as `apiKey` only because OpenAPI has no RFC 9421 type — the `Signature` header alone is not enough. The full profile, with worked examples: docs/protocol.md.',
        '',
        'Each request carries three headers:',
        '- `Content-Digest: sha-256=:<base64 SHA-256 of the raw body bytes>:` (a bodiless request carries the digest of the empty string; sha-256 or sha-512).',
        `- \`Signature-Input: ${p.label}=(${p.components.map((c) => `"${c}"`).join(' ')} "${p.bodyComponent}");created=<unix s>;expires=<unix s>;nonce="<base64url>";keyid="<key id>";alg="${p.alg}";tag="${p.tag}"\` — \`"${p.bodyComponent}"\` is covered exactly when the request has a body.`,
        `- \`Signature: ${p.label}=:<base64 of the ${p.signatureBytes}-byte Ed25519 signature over the RFC 9421 signature base>:\``,
        '',
        'Rules the vault enforces: `@path` and `@query` are the raw request target (`@query` is `?` when empty); `@authority` is the vault\'s configured public authority, never a forwarded header;'
            + ` \`keyid\` is the RFC 7638 JWK thumbprint of the public key (base64url SHA-256 of \`{"crv":"Ed25519","kty":"OKP","x":"<base64url raw key>"}\`);`
            + ` \`created\` at most ${p.maxSkewSeconds} s in the future; \`expires - created\` at most ${p.maxLifetimeSeconds} s; accepted until \`expires\` + ${p.maxSkewSeconds} s;`
            + ` \`nonce\` is unpadded base64url of at least ${p.nonceMinBytes} random bytes (at most ${p.nonceMaxChars} characters), usable once per key;`
            + ` \`alg\`, if present, must be \`${p.alg}\`; unknown or repeated parameters are refused.`,
        'The key id is looked up only among the identity classes an operation names in `x-sikkerkey-auth`; an operator\'s role must be at least `x-sikkerkey-min-role`.',
    ].join('\n');
}
function objectProperties(schema) {
    const s = (schema ?? {});
    return { properties: s.properties ?? {}, required: new Set(Array.isArray(s.required) ? s.required.map(String) : []) };
}
function describeAuth(route) {
    if (route.auth === 'none')
        return 'Unauthenticated.';
    const who = route.auth.map((k) => (k === 'ai_agent' ? 'AI agents' : `${k}s`)).join(', ');
    return `Signed by ${who}${route.minRole && route.auth.includes('operator') ? ` (operators: role ${route.minRole} or higher)` : ''}.`;
}
function operationFor(route, path, pathParams) {
    const parameters = [];
    const declared = objectProperties(route.schema.params);
    for (const p of pathParams) {
        const schema = declared.properties[p.name] ?? { type: 'string', ...(p.pattern !== undefined ? { pattern: p.pattern } : {}) };
        parameters.push({ name: p.name, in: 'path', required: true, schema });
    }
    const query = objectProperties(route.schema.querystring);
    for (const [name, schema] of Object.entries(query.properties))
        parameters.push({ name, in: 'query', required: query.required.has(name), schema });
    const headers = objectProperties(route.schema.headers);
    for (const [name, schema] of Object.entries(headers.properties))
        parameters.push({ name, in: 'header', required: headers.required.has(name), schema });
    const responses = {};
    const declaredResponses = route.schema.response;
    if (declaredResponses && Object.keys(declaredResponses).length > 0) {
        for (const [status, schema] of Object.entries(declaredResponses)) {
            const s = schema;
            responses[status] = { description: typeof s.description === 'string' ? s.description : `${status} answer`, content: { 'application/json': { schema } } };
        }
    }
    else {
        responses['2XX'] = { description: 'Success. The answer\'s schema is not declared yet.' };
    }
    responses['4XX'] ??= { $ref: '#/components/responses/Error' };
    responses['5XX'] ??= { $ref: '#/components/responses/Error' };
    const segments = path.split('/').filter(Boolean);
    const tag = (segments[0] === 'v1' ? segments[1] : segments[0])?.split(':')[0] ?? 'root';
    return {
        operationId: operationId(route.method, path),
        summary: `${route.method} ${path}`,
        description: describeAuth(route),
        tags: [tag.replace(/^\{.*\}$/, 'root')],
        ...(parameters.length ? { parameters } : {}),
        ...(route.schema.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: route.schema.body } } } } : {}),
        responses,
        security: route.auth === 'none' ? [] : [{ [SIGNATURE_SCHEME]: [] }],
        'x-sikkerkey-auth': route.auth,
        ...(route.minRole ? { 'x-sikkerkey-min-role': route.minRole } : {}),
    };
}
/** The document for these routes. Pure: the same routes always give the same document. */
export function buildOpenApiDocument(routes, version) {
    const paths = {};
    const ids = new Map();
    for (const route of routes) {
        const { path, params } = openApiPath(route.url);
        const op = operationFor(route, path, params);
        const n = ids.get(op.operationId) ?? 0;
        ids.set(op.operationId, n + 1);
        if (n > 0)
            op.operationId += `_${n + 1}`;
        (paths[path] ??= {})[route.method.toLowerCase()] = op;
    }
    return {
        openapi: '3.1.0',
        info: {
            title: 'SikkerKey vault API',
            version,
            description: 'Generated from the routes the vault registered and the JSON schemas it validates with. '
                + 'Every operation names who may sign it (`x-sikkerkey-auth`: operator, machine, ai_agent, or none) and, for operators, the least role (`x-sikkerkey-min-role`). '
                + 'Errors are `{"error":{"code":"SK_ERR_…","message":"…"}}`; the codes, the states and a route table are in docs/api.md.',
        },
        paths,
        components: {
            securitySchemes: { [SIGNATURE_SCHEME]: { type: 'apiKey', in: 'header', name: 'Signature', description: signatureDescription() } },
            schemas: {
                Error: ERROR_SCHEMA,
                ...Object.fromEntries(API_ENUMS.map((e) => [e.name, { type: 'string', enum: [...e.values], description: e.where }])),
            },
            responses: { Error: { description: 'An error: a registered SK_ERR_… code and a message.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
        },
    };
}
/** This package's version, from the nearest package.json named `sikkerkey` above this module. */
export function packageVersion() {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
        try {
            const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
            if (pkg.name === 'sikkerkey' && typeof pkg.version === 'string')
                return pkg.version;
        }
        catch { /* not here: look higher */ }
        const up = dirname(dir);
        if (up === dir)
            return '0.0.0';
        dir = up;
    }
}
/**
 * `GET /v1/openapi.json`: unauthenticated (a script needs it before it has a key), built once on
 * the first request — by then every route, this one included, is registered.
 */
export function openApiRoutes(app, catalog) {
    let body;
    app.get('/v1/openapi.json', { config: { auth: 'none' } }, async (_req, reply) => {
        body ??= JSON.stringify(buildOpenApiDocument(catalog.routes(), packageVersion()));
        return reply.header('content-type', 'application/json; charset=utf-8').send(body);
    });
}
//# sourceMappingURL=openapi.js.map
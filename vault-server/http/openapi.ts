import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { SIGNATURE_PROFILE } from '../../protocol/signing.js';
import { ERROR_CODES } from '../../protocol/errors.js';
import type { IdentityKind, OperatorRole, RouteScope } from './authenticate.js';
import { scopeList } from './ai-scopes.js';
import type { AiScope } from './ai-scopes.js';
import { API_ENUMS } from './api-states.js';

/**
 * The HTTP API described from the routes themselves: every route is recorded as fastify registers
 * it (an `onRoute` hook the composition root installs before any module), and `GET /v1/openapi.json`
 * serves an OpenAPI 3.1 document built from those records — the same JSON schemas fastify
 * validates with, so the document cannot drift from what the vault accepts. Hand-built rather than
 * @fastify/swagger: the server is bundled and this needs no dependency. Schemas only: nothing in
 * the document is read from the store.
 *
 * @example
 *   const catalog = createRouteCatalog();
 *   app.addHook('onRoute', catalog.record);
 *   // … modules register their routes …
 *   openApiRoutes(app, catalog);   // GET /v1/openapi.json, unauthenticated
 */

/** One route as the vault registered it: the facts the document and docs/api.md are made from. */
export interface CatalogRoute {
  method: string;
  /** fastify's URL (`/v1/projects/:project`, `::` for a literal colon). */
  url: string;
  /** Which identity classes may sign, or `none` (unauthenticated). */
  auth: readonly IdentityKind[] | 'none';
  /** Operators only: the least role (viewer < admin < owner); absent = any operator. */
  minRole?: OperatorRole;
  /** AI agents only: the scopes, any one of which lets an agent call (empty: no agent may). */
  scopes?: readonly AiScope[];
  /** Whether the route answers with a stored secret value; undefined = not declared (a test fails on it). */
  returnsValues?: boolean | undefined;
  /** `config.openApi: false`: not API (the dashboard's static files, http/ui-static.ts); left out of the document. */
  openApi?: false;
  schema: RouteSchema;
}

interface RouteSchema {
  params?: unknown;
  querystring?: unknown;
  headers?: unknown;
  body?: unknown;
  response?: unknown;
}

export interface RouteCatalog {
  /** The `onRoute` hook. */
  record(route: RouteOptions): void;
  /**
   * Every route, in registration order, without the HEAD routes fastify adds for each GET (they
   * answer like the GET, without a body).
   */
  routes(): readonly CatalogRoute[];
}

export function createRouteCatalog(): RouteCatalog {
  const seen: CatalogRoute[] = [];
  return {
    record(route) {
      const config = (route.config ?? {}) as { auth?: CatalogRoute['auth']; minRole?: OperatorRole; scope?: RouteScope; returnsValues?: boolean; openApi?: boolean };
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
        seen.push({
          method: String(method).toUpperCase(), url: route.url,
          // authenticate.ts treats a route without `auth` as unauthenticated: say so.
          auth: config.auth ?? 'none', ...(config.minRole ? { minRole: config.minRole } : {}),
          scopes: scopeList(config.scope), returnsValues: config.returnsValues,
          ...(config.openApi === false ? { openApi: false as const } : {}),
          schema: (route.schema ?? {}) as RouteSchema,
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
export function openApiPath(url: string): { path: string; params: Array<{ name: string; pattern?: string }> } {
  let path = '';
  const params: Array<{ name: string; pattern?: string }> = [];
  for (let i = 0; i < url.length;) {
    const c = url[i] as string;
    if (c === ':' && url[i + 1] === ':') { path += ':'; i += 2; continue; }
    if (c === ':') {
      let j = i + 1;
      while (j < url.length && /[A-Za-z0-9_]/.test(url[j] as string)) j++;
      const name = url.slice(i + 1, j);
      let pattern: string | undefined;
      if (url[j] === '(') {
        let depth = 0;
        let k = j;
        for (; k < url.length; k++) {
          if (url[k] === '\\') { k++; continue; }
          if (url[k] === '(') depth++;
          if (url[k] === ')' && --depth === 0) break;
        }
        pattern = url.slice(j + 1, k);
        j = k + 1;
      }
      params.push({ name, ...(pattern !== undefined ? { pattern } : {}) });
      path += `{${name}}`;
      i = j;
      continue;
    }
    if (c === '*') { params.push({ name: 'wildcard' }); path += '{wildcard}'; i++; continue; }
    path += c;
    i++;
  }
  return { path, params };
}

/** `GET /v1/projects/{project}/secrets` → `getV1ProjectsByProjectSecrets`. */
export function operationId(method: string, path: string): string {
  const words = path.split(/[/:]/).filter(Boolean).map((seg) => {
    const param = /^\{(.+)\}$/.exec(seg);
    const word = (param ? `by-${param[1] as string}` : seg).split(/[^A-Za-z0-9]+/).filter(Boolean);
    return word.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  });
  return method.toLowerCase() + words.join('');
}

type JsonObject = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: JsonObject;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: Record<string, JsonObject>;
  security: Array<Record<string, string[]>>;
  'x-sikkerkey-auth': readonly IdentityKind[] | 'none';
  'x-sikkerkey-min-role'?: OperatorRole;
  /** The AI agent scopes, any one of which lets an agent call (present when `ai_agent` may sign). */
  'x-sikkerkey-scope'?: readonly AiScope[];
  /** Whether the answer carries a stored secret value (such an operation is signed by machines only). */
  'x-sikkerkey-returns-values': boolean;
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
} as const;

function signatureDescription(): string {
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
    'The key id is looked up only among the identity classes an operation names in `x-sikkerkey-auth`; an operator\'s role must be at least `x-sikkerkey-min-role`; an AI agent must hold one of the scopes in `x-sikkerkey-scope`.',
  ].join('\n');
}

function objectProperties(schema: unknown): { properties: Record<string, unknown>; required: Set<string> } {
  const s = (schema ?? {}) as { properties?: Record<string, unknown>; required?: unknown };
  return { properties: s.properties ?? {}, required: new Set(Array.isArray(s.required) ? s.required.map(String) : []) };
}

function describeAuth(route: CatalogRoute): string {
  if (route.auth === 'none') return 'Unauthenticated.';
  const who = route.auth.map((k) => (k === 'ai_agent' ? 'AI agents' : `${k}s`)).join(', ');
  const notes = [
    ...(route.minRole && route.auth.includes('operator') ? [`operators: role ${route.minRole} or higher`] : []),
    ...(route.auth.includes('ai_agent') ? [`AI agents: scope ${(route.scopes ?? []).length > 0 ? (route.scopes ?? []).join(' or ') : '(none: refused)'}`] : []),
  ];
  return `Signed by ${who}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}.${route.returnsValues ? ' Answers with a stored secret value.' : ''}`;
}

function operationFor(route: CatalogRoute, path: string, pathParams: Array<{ name: string; pattern?: string }>): OpenApiOperation {
  const parameters: JsonObject[] = [];
  const declared = objectProperties(route.schema.params);
  for (const p of pathParams) {
    const schema = declared.properties[p.name] ?? { type: 'string', ...(p.pattern !== undefined ? { pattern: p.pattern } : {}) };
    parameters.push({ name: p.name, in: 'path', required: true, schema });
  }
  const query = objectProperties(route.schema.querystring);
  for (const [name, schema] of Object.entries(query.properties)) parameters.push({ name, in: 'query', required: query.required.has(name), schema });
  const headers = objectProperties(route.schema.headers);
  for (const [name, schema] of Object.entries(headers.properties)) parameters.push({ name, in: 'header', required: headers.required.has(name), schema });

  const responses: Record<string, JsonObject> = {};
  const declaredResponses = route.schema.response as Record<string, unknown> | undefined;
  if (declaredResponses && Object.keys(declaredResponses).length > 0) {
    for (const [status, schema] of Object.entries(declaredResponses)) {
      const s = schema as { description?: unknown };
      responses[status] = { description: typeof s.description === 'string' ? s.description : `${status} answer`, content: { 'application/json': { schema } } };
    }
  } else {
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
    ...(route.auth !== 'none' && route.auth.includes('ai_agent') ? { 'x-sikkerkey-scope': route.scopes ?? [] } : {}),
    'x-sikkerkey-returns-values': route.returnsValues === true,
  };
}

/** The document for these routes. Pure: the same routes always give the same document. */
export function buildOpenApiDocument(routes: readonly CatalogRoute[], version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const ids = new Map<string, number>();
  for (const route of routes) {
    if (route.openApi === false) continue;
    const { path, params } = openApiPath(route.url);
    const op = operationFor(route, path, params);
    const n = ids.get(op.operationId) ?? 0;
    ids.set(op.operationId, n + 1);
    if (n > 0) op.operationId += `_${n + 1}`;
    (paths[path] ??= {})[route.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SikkerKey vault API',
      version,
      description: 'Generated from the routes the vault registered and the JSON schemas it validates with. '
        + 'Every operation names who may sign it (`x-sikkerkey-auth`: operator, machine, ai_agent, or none), for operators the least role (`x-sikkerkey-min-role`), '
        + 'for AI agents the scopes any one of which will do (`x-sikkerkey-scope`), and whether it answers with a stored secret value (`x-sikkerkey-returns-values`: such operations are signed by machines only). '
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
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'sikkerkey' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* not here: look higher */ }
    const up = dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}

/**
 * `GET /v1/openapi.json`: unauthenticated (a script needs it before it has a key), built once on
 * the first request — by then every route, this one included, is registered.
 */
export function openApiRoutes(app: FastifyInstance, catalog: RouteCatalog): void {
  let body: string | undefined;
  app.get('/v1/openapi.json', { config: { auth: 'none', returnsValues: false } }, async (_req, reply) => {
    body ??= JSON.stringify(buildOpenApiDocument(catalog.routes(), packageVersion()));
    return reply.header('content-type', 'application/json; charset=utf-8').send(body);
  });
}

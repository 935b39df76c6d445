import type { FastifyInstance, RouteOptions } from 'fastify';
import type { IdentityKind, OperatorRole } from './authenticate.js';
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
export declare function createRouteCatalog(): RouteCatalog;
/**
 * fastify's path syntax → OpenAPI's: `:name` → `{name}`, a regex constraint `:id(^\d+)` dropped
 * (kept as the parameter's `pattern`), `::` → a literal `:`, a trailing `*` → `{wildcard}`.
 */
export declare function openApiPath(url: string): {
    path: string;
    params: Array<{
        name: string;
        pattern?: string;
    }>;
};
/** `GET /v1/projects/{project}/secrets` → `getV1ProjectsByProjectSecrets`. */
export declare function operationId(method: string, path: string): string;
type JsonObject = Record<string, unknown>;
export interface OpenApiDocument {
    openapi: '3.1.0';
    info: {
        title: string;
        version: string;
        description: string;
    };
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
}
export declare const SIGNATURE_SCHEME = "sikkerkeySignature";
/** The document for these routes. Pure: the same routes always give the same document. */
export declare function buildOpenApiDocument(routes: readonly CatalogRoute[], version: string): OpenApiDocument;
/** This package's version, from the nearest package.json named `sikkerkey` above this module. */
export declare function packageVersion(): string;
/**
 * `GET /v1/openapi.json`: unauthenticated (a script needs it before it has a key), built once on
 * the first request — by then every route, this one included, is registered.
 */
export declare function openApiRoutes(app: FastifyInstance, catalog: RouteCatalog): void;
export {};

import type { FastifyInstance } from 'fastify';
/**
 * Bodies are validated strictly: no coercion ("1" is not 1) and unknown properties are an error,
 * not silently dropped (fastify's default), so a misspelt option never passes as if it were absent.
 * Query strings and path parameters arrive as text and are coerced to the schema's types.
 */
export declare function installValidation(app: FastifyInstance): void;
/**
 * Every integer a route accepts has a finite upper bound, so JSON such as `1e400` (Infinity) or
 * `100000000000000000000` (beyond 2^53) is a 400 at the schema, never a database error.
 * test/vault-server/route-limits.test.ts walks every route's schema and holds routes to this.
 */
export declare function safeInteger(opts?: {
    minimum?: number;
    maximum?: number;
}): {
    type: 'integer';
    minimum?: number;
    maximum: number;
};
/** The largest value of a 32-bit `integer` column (secret versions): larger fails on PostgreSQL. */
export declare const INT32_MAX = 2147483647;
/**
 * The paths inside a JSON schema whose integer or number has no finite `maximum` (or
 * `exclusiveMaximum`) at most Number.MAX_SAFE_INTEGER; empty when every number is bounded.
 */
export declare function unboundedNumbers(schema: unknown, path?: string): string[];

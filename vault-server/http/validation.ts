import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * Bodies are validated strictly: no coercion ("1" is not 1) and unknown properties are an error,
 * not silently dropped (fastify's default), so a misspelt option never passes as if it were absent.
 * Query strings and path parameters arrive as text and are coerced to the schema's types.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  const coercing = new Ajv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  // Routes repeat the same small schemas (a project and a name, `?wait=`, an id): each distinct one
  // is compiled once and its validator shared — a validator keeps no state between calls but the
  // `errors` of the call just made, read at once. Compiling is most of the vault's start-up work.
  const compiled = new Map<string, ReturnType<Ajv['compile']>>();
  app.setValidatorCompiler(({ schema, httpPart, url, method }) => {
    const unbounded = unboundedNumbers(schema);
    if (unbounded.length > 0) throw new Error(`${method} ${url} ${httpPart ?? ''}: numbers without a finite maximum (use safeInteger): ${unbounded.join(', ')}`);
    const strictPart = httpPart === 'body';
    const key = `${strictPart ? 'strict' : 'coercing'} ${JSON.stringify(schema)}`;
    let validate = compiled.get(key);
    if (validate === undefined) {
      validate = (strictPart ? strict : coercing).compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  });
}

/**
 * Every integer a route accepts has a finite upper bound, so JSON such as `1e400` (Infinity) or
 * `100000000000000000000` (beyond 2^53) is a 400 at the schema, never a database error.
 * test/vault-server/route-limits.test.ts walks every route's schema and holds routes to this.
 */
export function safeInteger(opts: { minimum?: number; maximum?: number } = {}): { type: 'integer'; minimum?: number; maximum: number } {
  return { type: 'integer', ...(opts.minimum !== undefined ? { minimum: opts.minimum } : {}), maximum: opts.maximum ?? Number.MAX_SAFE_INTEGER };
}

/** The largest value of a 32-bit `integer` column (secret versions): larger fails on PostgreSQL. */
export const INT32_MAX = 2_147_483_647;

/**
 * The paths inside a JSON schema whose integer or number has no finite `maximum` (or
 * `exclusiveMaximum`) at most Number.MAX_SAFE_INTEGER; empty when every number is bounded.
 */
export function unboundedNumbers(schema: unknown, path = '$'): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const out: string[] = [];
  const types = Array.isArray(s.type) ? s.type as unknown[] : [s.type];
  if (types.includes('integer') || types.includes('number')) {
    const max = typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : undefined;
    if (max === undefined || !Number.isFinite(max) || max > Number.MAX_SAFE_INTEGER) out.push(path);
  }
  for (const key of ['properties', 'patternProperties', 'definitions', '$defs'] as const) {
    const children = s[key];
    if (children && typeof children === 'object') {
      for (const [name, child] of Object.entries(children as Record<string, unknown>)) out.push(...unboundedNumbers(child, `${path}.${name}`));
    }
  }
  for (const key of ['items', 'additionalProperties', 'additionalItems', 'contains', 'not', 'if', 'then', 'else'] as const) {
    const child = s[key];
    if (Array.isArray(child)) child.forEach((c, i) => out.push(...unboundedNumbers(c, `${path}.${key}[${i}]`)));
    else out.push(...unboundedNumbers(child, `${path}.${key}`));
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
    const list = s[key];
    if (Array.isArray(list)) list.forEach((c, i) => out.push(...unboundedNumbers(c, `${path}.${key}[${i}]`)));
  }
  return out;
}

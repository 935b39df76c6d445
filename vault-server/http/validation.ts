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
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

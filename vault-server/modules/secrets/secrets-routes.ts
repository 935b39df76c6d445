import type { FastifyInstance } from 'fastify';
import { closingSignal, heldRequest } from '../../http/shutdown.js';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { INT32_MAX, safeInteger } from '../../http/validation.js';
import { LONG_POLL_MAX_SECONDS } from '../../http/limits.js';
import { secretEvents, waitForNewerVersion } from './secret-watch.js';
import { auditWatchRefusal, batchRead, listSecrets, listVersions, readSecret, rollbackSecret, setSecret } from './secrets-service.js';
import type { SecretInput } from './secrets-service.js';
import { recordCachedReads } from './cached-reads.js';
import type { CachedReadReport } from './cached-reads.js';

const MAX_VALUE = 64 * 1024;
const secretParams = {
  type: 'object', required: ['project', 'name'],
  properties: { project: { type: 'string', pattern: NAME_PATTERN }, name: { type: 'string', pattern: NAME_PATTERN } },
} as const;
const projectParams = { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } } as const;

export function secretsRoutes(app: FastifyInstance, ctx: VaultContext): void {
  // Held watches end (304) when the vault begins to shut down.
  const closing = closingSignal(app);

  // The only route that returns a stored value: its caller is looked up in `machines` alone.
  // With ?waitForVersionAfter=N the read is a long-poll: it answers once the live version is
  // newer than N (an ordinary read, audited once with `watchAfter`), or 304 with no body when
  // `wait` seconds pass (counted in sikkerkey_secret_watch_unchanged_total, not audited). A
  // refused watch is audited like a refused read.
  // With ?version=N it answers that version if it was ever live (live, previous, retired), granted
  // and audited like the live read; a pending or discarded version is as unknown as a missing one.
  app.get<{ Params: { project: string; name: string }; Querystring: { waitForVersionAfter?: number; wait?: number; version?: number } }>('/v1/projects/:project/secrets/:name', {
    // A read claims its nonce in its own job; a watch claims it before it waits, as any route does.
    config: { auth: ['machine'], returnsValues: true, nonceInJob: (req) => (req.query as { waitForVersionAfter?: unknown }).waitForVersionAfter === undefined },
    schema: {
      params: secretParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          waitForVersionAfter: safeInteger({ minimum: 0, maximum: INT32_MAX }), wait: safeInteger({ minimum: 0, maximum: LONG_POLL_MAX_SECONDS }),
          version: safeInteger({ minimum: 1, maximum: INT32_MAX }),
        },
      },
    },
  }, async (req, reply) => {
    const caller = callerOf(req);
    if (req.query.version !== undefined) {
      if (req.query.waitForVersionAfter !== undefined) throw new SikkerKeyError('SK_ERR_VALIDATION', 'version and waitForVersionAfter cannot be combined: a given version never changes');
      return readSecret(ctx, caller, { ...req.params, version: req.query.version });
    }
    if (req.query.waitForVersionAfter !== undefined) {
      const held = heldRequest(closing, reply);
      const after = req.query.waitForVersionAfter;
      let changed: boolean;
      try {
        changed = await waitForNewerVersion(ctx, caller, { ...req.params, after, waitSeconds: req.query.wait ?? 30, signal: held.signal });
      } catch (err) {
        await auditWatchRefusal(ctx, caller, { ...req.params, after }, err);
        throw err;
      } finally {
        // A held watch must not leave its listener on the app-wide signal once it is answered.
        held.release();
      }
      if (!changed) {
        ctx.metrics.watchUnchanged.inc();
        return reply.code(304).send();
      }
      return readSecret(ctx, caller, req.params, { watchAfter: after });
    }
    return readSecret(ctx, caller, req.params);
  });

  // Many reads under one signature (`::` is fastify's literal colon).
  app.post<{ Body: { items: Array<{ project: string; name: string; version?: number }> } }>('/v1/secrets::batchGet', {
    config: { auth: ['machine'], returnsValues: true, nonceInJob: () => true },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['items'],
        properties: {
          items: {
            type: 'array', minItems: 1, maxItems: 100,
            items: {
              type: 'object', additionalProperties: false, required: ['project', 'name'],
              properties: { project: { type: 'string', pattern: NAME_PATTERN }, name: { type: 'string', pattern: NAME_PATTERN }, version: safeInteger({ minimum: 1, maximum: INT32_MAX }) },
            },
          },
        },
      },
    },
  }, async (req) => ({ results: await batchRead(ctx, callerOf(req), req.body.items) }));

  // Reads an agent's offline cache served while the vault was unreachable (cached-reads.ts): one
  // `secret.read_cached` audit event per group; idempotent by reportId. No value travels either way.
  app.post<{ Body: CachedReadReport }>('/v1/agent/cache-reads', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['reportId', 'reads'],
        properties: {
          reportId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' },
          reads: {
            type: 'array', minItems: 1, maxItems: 100,
            items: {
              type: 'object', additionalProperties: false, required: ['project', 'name', 'version', 'count', 'firstServedAt', 'lastServedAt'],
              properties: {
                project: { type: 'string', pattern: NAME_PATTERN }, name: { type: 'string', pattern: NAME_PATTERN },
                version: safeInteger({ minimum: 1, maximum: INT32_MAX }), count: safeInteger({ minimum: 1, maximum: 1_000_000_000 }),
                firstServedAt: safeInteger({ minimum: 0 }), lastServedAt: safeInteger({ minimum: 0 }),
                fields: { type: 'array', maxItems: 64, items: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
              },
            },
          },
        },
      },
    },
  }, async (req) => recordCachedReads(ctx, callerOf(req), req.body));

  app.put<{ Params: { project: string; name: string }; Body: { value?: string; fields?: Record<string, string> } }>('/v1/projects/:project/secrets/:name', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false },
    schema: {
      params: secretParams,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
        properties: {
          value: { type: 'string', maxLength: MAX_VALUE },
          fields: { type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' }, additionalProperties: { type: 'string', maxLength: MAX_VALUE } },
        },
      },
    },
  }, async (req) => {
    const input: SecretInput | undefined = req.body.value !== undefined ? { value: req.body.value } : req.body.fields ? { fields: req.body.fields } : undefined;
    if (!input) throw new SikkerKeyError('SK_ERR_VALIDATION', 'give either value or fields');
    const written = await setSecret(ctx, callerOf(req), { project: req.params.project, name: req.params.name, input });
    secretEvents.emit('changed', { project: req.params.project, secret: req.params.name });
    return written;
  });

  app.get<{ Params: { project: string } }>('/v1/projects/:project/secrets', {
    config: { auth: ['operator', 'ai_agent'], scope: 'secrets:read', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => ({ secrets: await listSecrets(ctx, req.params.project) }));

  app.get<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/versions', {
    config: { auth: ['operator', 'ai_agent'], scope: 'secrets:read', returnsValues: false }, schema: { params: secretParams },
  }, async (req) => ({ versions: await listVersions(ctx, req.params.project, req.params.name) }));

  app.post<{ Params: { project: string; name: string }; Body: { to: number } }>('/v1/projects/:project/secrets/:name/rollback', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false },
    schema: { params: secretParams, body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: safeInteger({ minimum: 1, maximum: INT32_MAX }) } } },
  }, async (req) => {
    const res = await rollbackSecret(ctx, callerOf(req), { ...req.params, to: req.body.to });
    secretEvents.emit('changed', { project: req.params.project, secret: req.params.name });
    return res;
  });
}

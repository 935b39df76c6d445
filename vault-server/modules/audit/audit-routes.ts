import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { safeInteger } from '../../http/validation.js';
import { sign } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { checkpointMessage } from '../../../protocol/audit-checkpoint.js';
import type { AuditCheckpoint } from '../../../protocol/audit-checkpoint.js';
import { eventMac, GENESIS_HASH, headMac, verifyAuditChain } from './audit-store.js';
import type { Outcome } from './audit-store.js';
import { MAX_PAGE, OUTCOMES, parseActor, searchAudit, SEVERITIES } from './audit-search.js';
import type { AuditOrder } from './audit-search.js';
import type { Severity } from '../webhooks/event-catalog.js';

interface AuditQuerystring {
  project?: string; action?: string; actor?: string; outcome?: Outcome; severity?: Severity; target?: string; ip?: string;
  since?: number; until?: number; after?: number; order?: string; cursor?: string; limit?: number;
}

export function auditRoutes(app: FastifyInstance, ctx: VaultContext): void {
  // Pages newest first unless order=asc; filters are ANDed; `hasMore` says whether more events
  // match, and `nextCursor` passed back as `cursor` gives the next page.
  app.get<{ Querystring: AuditQuerystring }>('/v1/audit', {
    config: { auth: ['operator', 'ai_agent'], scope: 'audit:read', returnsValues: false },
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          project: { type: 'string', maxLength: 128 },
          action: { type: 'string', minLength: 1, maxLength: 128 },
          actor: { type: 'string', minLength: 1, maxLength: 160 },
          outcome: { type: 'string', enum: [...OUTCOMES] },
          severity: { type: 'string', enum: [...SEVERITIES] },
          target: { type: 'string', minLength: 1, maxLength: 512 },
          ip: { type: 'string', minLength: 1, maxLength: 64 },
          since: safeInteger({ minimum: 0 }), until: safeInteger({ minimum: 0 }),
          after: safeInteger({ minimum: 0 }),
          order: { type: 'string', enum: ['asc', 'desc'] },
          cursor: { type: 'string', minLength: 1, maxLength: 64 },
          limit: safeInteger({ minimum: 1, maximum: MAX_PAGE }),
        },
      },
    },
  }, async (req) => {
    const q = req.query;
    const order: AuditOrder | undefined = q.order === 'asc' || q.order === 'desc' ? q.order : undefined;
    let projectId: string | undefined;
    if (q.project) {
      // A project in the trash keeps its history listable.
      projectId = (await ctx.store.db.selectFrom('projects').select('id').where('name', '=', q.project).executeTakeFirst())?.id;
      if (!projectId) return { events: [], order: order ?? (q.after !== undefined ? 'asc' : 'desc'), hasMore: false };
    }
    return searchAudit(ctx.store.db, ctx.store.dialect, {
      ...(projectId ? { projectId } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.actor !== undefined ? parseActor(q.actor) : {}),
      ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
      ...(q.severity !== undefined ? { severity: q.severity } : {}),
      ...(q.target !== undefined ? { target: q.target } : {}),
      ...(q.ip !== undefined ? { ip: q.ip } : {}),
      ...(q.since !== undefined ? { sinceMs: q.since } : {}),
      ...(q.until !== undefined ? { untilMs: q.until } : {}),
      ...(q.after !== undefined ? { afterSeq: q.after } : {}),
      ...(order ? { order } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
    });
  });

  // Every hash and, with the vault's audit keys, every MAC and the head's MAC.
  app.get('/v1/audit/verify', { config: { auth: ['operator', 'ai_agent'], scope: 'audit:read', returnsValues: false } }, async () => verifyAuditChain(ctx.store.db, ctx.auditKeys));

  // A signed checkpoint of the chain head: keep it somewhere the database cannot reach and give
  // it to `audit verify --checkpoint` later. The head is signed only if its MAC and its event's
  // MAC check out, so the vault never signs a head someone moved without the key.
  app.get('/v1/audit/head', { config: { auth: ['operator', 'ai_agent'], scope: 'audit:read', returnsValues: false } }, async (): Promise<AuditCheckpoint & { keyVersion: number }> => {
    const keys = ctx.auditKeys;
    const head = await ctx.store.db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
    const seq = head ? Number(head.seq) : 0;
    const hash = head?.hash ?? GENESIS_HASH;
    let at = 0;
    if (seq > 0) {
      const event = await ctx.store.db.selectFrom('audit_events').select(['at', 'hash', 'mac']).where('seq', '=', seq).executeTakeFirst();
      const headOk = head?.mac === headMac(keys.macKey, seq, hash);
      const eventOk = event?.hash === hash && (seq < keys.keyedFrom || event.mac === eventMac(keys.macKey, hash));
      if (!headOk || !eventOk) {
        throw new SikkerKeyError('SK_ERR_AUDIT_CHAIN', `the chain head (event ${seq}) fails its MAC check: run \`sikkerkey audit verify\``);
      }
      at = Number(event.at);
    }
    const signature = sign(null, checkpointMessage(seq, hash, at), keys.signingKey).toString('base64');
    return { seq, hash, at, signature, publicKey: keys.publicKey.toString('base64'), keyVersion: keys.version };
  });
}

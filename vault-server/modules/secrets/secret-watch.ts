/**
 * Secret watches (`GET …/secrets/{name}?waitForVersionAfter=N&wait=S`): the grant and lock checks
 * of a read, then a wait for a newer live version that costs no store work while nothing happens.
 * A held watch sleeps in this process's wake-up hub (vault-server/http/long-poll.ts) under its
 * secret's name and is woken by `secretEvents` 'changed' (an operator's write or rollback) and
 * `rotationEvents` 'finished' (a promotion), each naming the secret; an event without that name
 * (relayed from elsewhere without a payload) wakes every watch. The hub's one safety-net sweep
 * per process (every SWEEP_MS) reads the current versions of all watched secrets in one query
 * per 500 secrets and wakes the watches whose secret moved past what they wait for.
 */
import { EventEmitter } from 'node:events';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
import { WakeHub } from '../../http/long-poll.js';
import type { SweepResult } from '../../http/long-poll.js';
import { rotationEvents } from '../rotations/rotations-engine.js';
import type { FinishedEvent } from '../rotations/rotations-engine.js';
import { labelGrantsOf } from '../grants/label-grants.js';

/** What a 'changed' event names: the secret that got a new live version. */
export interface ChangedEvent { project: string; secret: string }

/**
 * Emitted ('changed', ChangedEvent) when a secret gets a new live version from an operator's
 * write or rollback. Listeners must accept a missing payload (then anything may have changed).
 */
export const secretEvents = new EventEmitter();
secretEvents.setMaxListeners(0);

/** The safety net's period: the longest a change with no event here goes unseen by a held watch. */
export const SWEEP_MS = 5000;
const SWEEP_CHUNK = 500;

interface Watching { after: number; secretId: string | null }

const watchKey = (project: string, secret: string): string => `s:${project}/${secret}`;

const hubs = new WeakMap<VaultContext, WakeHub<Watching>>();

/** The watches held now, and how many of them have made their first check (diagnostics and tests). */
export function watchesHeld(ctx: VaultContext): { held: number; checked: number } {
  const all = hubs.get(ctx)?.held() ?? [];
  return { held: all.length, checked: all.filter((w) => w.secretId !== null).length };
}

function hubOf(ctx: VaultContext): WakeHub<Watching> {
  let hub = hubs.get(ctx);
  if (hub) return hub;
  hub = new WakeHub<Watching>({
    intervalMs: SWEEP_MS,
    now: ctx.now,
    sweep: (waiting) => sweep(ctx, waiting),
    subscribe: () => {
      const h = hub as WakeHub<Watching>;
      const onChanged = (e?: ChangedEvent): void => (e ? h.wake(watchKey(e.project, e.secret)) : h.wakeAll());
      const onFinished = (_id?: string, e?: FinishedEvent): void => (e ? h.wake(watchKey(e.project, e.secret)) : h.wakeAll());
      secretEvents.on('changed', onChanged);
      rotationEvents.on('finished', onFinished);
      return () => {
        secretEvents.off('changed', onChanged);
        rotationEvents.off('finished', onFinished);
      };
    },
    onSweepError: (err) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'secret watch sweep failed; will retry'),
  });
  hubs.set(ctx, hub);
  return hub;
}

/** The current versions of every watched secret, one query per SWEEP_CHUNK secrets. */
async function sweep(ctx: VaultContext, waiting: ReadonlyMap<string, readonly Watching[]>): Promise<SweepResult> {
  const ids = [...new Set([...waiting.values()].flatMap((ws) => ws.map((w) => w.secretId).filter((id): id is string => id !== null)))];
  const current = new Map<string, number | null>();
  for (let i = 0; i < ids.length; i += SWEEP_CHUNK) {
    const rows = await ctx.store.db.selectFrom('secrets').select(['id', 'current_version']).where('id', 'in', ids.slice(i, i + SWEEP_CHUNK)).execute();
    for (const r of rows) current.set(r.id, r.current_version);
  }
  const wake: string[] = [];
  for (const [key, ws] of waiting) {
    // A secret gone since the check wakes its watches too: their re-check answers for it.
    if (ws.some((w) => w.secretId !== null && (!current.has(w.secretId) || (current.get(w.secretId) ?? 0) > w.after))) wake.push(key);
  }
  return { wake };
}

/**
 * The grant and lock checks of a machine read, without decrypting or recording a read: may this
 * machine read that secret now, and which version is live? Answers exactly as a read would
 * refuse (403 without a grant, whether or not the secret exists; 423 when locked).
 */
async function watchedVersion(ctx: VaultContext, caller: Caller, req: { project: string; name: string }): Promise<{ id: string; version: number | null }> {
  const db = ctx.store.db;
  const project = await db.selectFrom('projects').select(['id', 'locked_at']).where('name', '=', req.project).where('deleted_at', 'is', null).executeTakeFirst();
  const grants = project ? [
    ...await db.selectFrom('grants').select('secret_id').where('machine_id', '=', caller.id).where('project_id', '=', project.id).execute(),
    ...await labelGrantsOf(db, caller.id, project.id),
  ] : [];
  if (!project || grants.length === 0) throw new SikkerKeyError('SK_ERR_NO_GRANT', 'this machine holds no grant for that secret');
  if (project.locked_at !== null) throw new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${JSON.stringify(req.project)} is locked; an operator must unlock it`);
  const secret = await db.selectFrom('secrets').select(['id', 'current_version']).where('project_id', '=', project.id).where('name', '=', req.name).where('deleted_at', 'is', null).executeTakeFirst();
  if (!grants.some((g) => g.secret_id === null || g.secret_id === secret?.id)) throw new SikkerKeyError('SK_ERR_NO_GRANT', 'this machine holds no grant for that secret');
  if (!secret) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.name)} in project ${JSON.stringify(req.project)}`);
  return { id: secret.id, version: secret.current_version };
}

/**
 * `GET …/secrets/{name}?waitForVersionAfter=N&wait=30`: resolves as soon as the live version is
 * newer than N (the caller then does an ordinary, audited read), or with `false` when the wait
 * ends with no change. Checks once, then re-checks only when woken (an event naming this secret,
 * or the hub's sweep) and once more when the wait ends, so a grant revoked or a project locked
 * during the wait is answered then (403 / 423), as a read would.
 */
export async function waitForNewerVersion(ctx: VaultContext, caller: Caller, req: { project: string; name: string; after: number; waitSeconds: number; signal: AbortSignal }): Promise<boolean> {
  const deadline = ctx.now() + req.waitSeconds * 1000;
  const watching: Watching = { after: req.after, secretId: null };
  // Registered before the first check, so a change committed while it runs is not missed.
  const waiter = hubOf(ctx).register([watchKey(req.project, req.name)], watching);
  try {
    for (;;) {
      waiter.arm();
      const { id, version } = await watchedVersion(ctx, caller, req);
      watching.secretId = id;
      if (version !== null && version > req.after) return true;
      const left = deadline - ctx.now();
      if (left <= 0 || req.signal.aborted) return false;
      await waiter.wait(left, req.signal);
    }
  } finally {
    waiter.close();
  }
}

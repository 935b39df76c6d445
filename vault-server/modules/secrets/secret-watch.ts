import { EventEmitter } from 'node:events';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
import { rotationEvents } from '../rotations/rotations-engine.js';

/** Emitted ('changed') when a secret gets a new live version from an operator's write or rollback. */
export const secretEvents = new EventEmitter();
secretEvents.setMaxListeners(0);

/** How often a held watch re-checks the store (promotions on another replica emit nothing here). */
const RECHECK_MS = 500;

/**
 * The grant and lock checks of a machine read, without decrypting or recording a read: may this
 * machine read that secret now, and which version is live? Answers exactly as a read would
 * refuse (403 without a grant, whether or not the secret exists; 423 when locked).
 */
async function watchedVersion(ctx: VaultContext, caller: Caller, req: { project: string; name: string }): Promise<number | null> {
  const db = ctx.store.db;
  const project = await db.selectFrom('projects').select(['id', 'locked_at']).where('name', '=', req.project).executeTakeFirst();
  const grants = project ? await db.selectFrom('grants').select('secret_id').where('machine_id', '=', caller.id).where('project_id', '=', project.id).execute() : [];
  if (!project || grants.length === 0) throw new SikkerKeyError('SK_ERR_NO_GRANT', 'this machine holds no grant for that secret');
  if (project.locked_at !== null) throw new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${JSON.stringify(req.project)} is locked; an operator must unlock it`);
  const secret = await db.selectFrom('secrets').select(['id', 'current_version']).where('project_id', '=', project.id).where('name', '=', req.name).executeTakeFirst();
  if (!grants.some((g) => g.secret_id === null || g.secret_id === secret?.id)) throw new SikkerKeyError('SK_ERR_NO_GRANT', 'this machine holds no grant for that secret');
  if (!secret) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.name)} in project ${JSON.stringify(req.project)}`);
  return secret.current_version;
}

/**
 * `GET …/secrets/{name}?waitForVersionAfter=N&wait=30`: resolves as soon as the live version is
 * newer than N (the caller then does an ordinary, audited read), or with `false` when the wait
 * ends with no change. Wakes on promotions and writes in this process and re-checks the store
 * every half second for changes made through other replicas.
 */
export async function waitForNewerVersion(ctx: VaultContext, caller: Caller, req: { project: string; name: string; after: number; waitSeconds: number; signal: AbortSignal }): Promise<boolean> {
  const deadline = ctx.now() + req.waitSeconds * 1000;
  for (;;) {
    const version = await watchedVersion(ctx, caller, req);
    if (version !== null && version > req.after) return true;
    const left = deadline - ctx.now();
    if (left <= 0 || req.signal.aborted) return false;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        rotationEvents.off('finished', done);
        secretEvents.off('changed', done);
        req.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(left, RECHECK_MS));
      rotationEvents.on('finished', done);
      secretEvents.on('changed', done);
      req.signal.addEventListener('abort', done);
    });
  }
}

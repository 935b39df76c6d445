/**
 * Canary secrets (DESIGN §5): decoys stored exactly like secrets — same table, same envelope
 * encryption, same version numbering — with `is_canary = 1`. Only operators ever learn which
 * secrets are canaries (`secret list` shows `isCanary`, `canary list` the settings). The read
 * path and the trip live in `canaries-tripwire.ts` and `secrets-service.ts`.
 *
 * @example
 *   await createCanary(ctx, operator, { project: 'shop', name: 'db-backup-admin', input: { value: 'decoy-…' }, lockMachineProjects: true });
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { writeTx } from '../../context.js';
import { isUniqueViolation } from '../../store/locks.js';
import { requireProject } from '../projects/projects-service.js';
import { encodeSecretInput, insertVersion } from '../secrets/secrets-service.js';
/**
 * Creates a canary as a new secret. A name already in use is refused (409): turning a real secret
 * into a canary would lock the project on the next legitimate read. The decoy's first version is
 * version 1 and is written by `insertVersion` like any operator write, so nothing in the row,
 * the version or the ciphertext sets it apart from a real secret.
 */
export async function createCanary(ctx, caller, req) {
    const encoded = encodeSecretInput(req.input);
    const id = randomUUID();
    const now = ctx.now();
    try {
        return await writeTx(ctx, async (trx, audit) => {
            const project = await requireProject(trx, req.project);
            await trx.insertInto('secrets').values({
                id, project_id: project.id, name: req.name, kind: encoded.kind, is_canary: 1,
                canary_lock_machine_projects: req.lockMachineProjects ? 1 : 0, current_version: null, created_at: now,
            }).execute();
            const { version } = await insertVersion(ctx, trx, { project, secretId: id, plaintext: encoded.plaintext, state: 'live', createdBy: `${caller.kind}:${caller.id}` });
            await audit({
                action: 'canary.create', projectId: project.id, target: `secret:${req.project}/${req.name}`, outcome: 'success',
                details: { version, kind: encoded.kind, lockMachineProjects: req.lockMachineProjects },
            }, caller);
            return { project: req.project, name: req.name, kind: encoded.kind, version, lockMachineProjects: req.lockMachineProjects, createdAt: now };
        });
    }
    catch (err) {
        if (isUniqueViolation(err))
            throw new SikkerKeyError('SK_ERR_CONFLICT', `project ${JSON.stringify(req.project)} already has a secret named ${JSON.stringify(req.name)}; a canary needs a name of its own`);
        throw err;
    }
}
/** The canaries of one project, for operators. */
export async function listCanaries(ctx, projectName) {
    const project = await requireProject(ctx.store.db, projectName);
    const rows = await ctx.store.db.selectFrom('secrets').select(['name', 'kind', 'current_version', 'canary_lock_machine_projects', 'created_at'])
        .where('project_id', '=', project.id).where('is_canary', '=', 1).where('deleted_at', 'is', null).orderBy('name').execute();
    return rows.map((r) => ({
        project: projectName, name: r.name, kind: r.kind, version: r.current_version, lockMachineProjects: r.canary_lock_machine_projects === 1, createdAt: r.created_at,
    }));
}
//# sourceMappingURL=canaries-service.js.map
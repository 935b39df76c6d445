/**
 * What operators say about a secret besides its value: a description and tags (`secret describe`),
 * and its name (`secret rename`). Neither touches a version or a data key: a data key is bound to
 * the secret's id, never its name, so a renamed secret decrypts as before. Machines read by name,
 * so a rename is a change every reader's configuration must follow (README says so).
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
import { writeTx } from '../../context.js';
import { isUniqueViolation } from '../../store/locks.js';
import { requireProject } from '../projects/projects-service.js';
import { requireSecret } from './secrets-service.js';
export const MAX_TAGS = 32;
export const TAG_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$';
function parseTags(json) {
    return json === null ? {} : JSON.parse(json);
}
export async function describeSecret(ctx, projectName, name) {
    const db = ctx.store.db;
    const project = await requireProject(db, projectName);
    const s = await requireSecret(db, project, name);
    const row = await db.selectFrom('secrets').select(['description', 'tags', 'created_at']).where('id', '=', s.id).executeTakeFirstOrThrow();
    const versions = await db.selectFrom('secret_versions').select((eb) => eb.fn.countAll().as('n')).where('secret_id', '=', s.id).executeTakeFirstOrThrow();
    const policy = await db.selectFrom('rotation_policies').select(['provider', 'strategy', 'enabled', 'paused_reason']).where('secret_id', '=', s.id).executeTakeFirst();
    return {
        project: projectName, name, kind: s.kind, isCanary: s.is_canary === 1, version: s.current_version, description: row.description,
        tags: parseTags(row.tags), createdAt: Number(row.created_at), versions: Number(versions.n),
        rotation: policy ? { provider: policy.provider, strategy: policy.strategy, enabled: policy.enabled === 1, pausedReason: policy.paused_reason } : null,
    };
}
/** Sets the description (null clears it) and merges tags (`removeTags` drops keys). */
export async function updateSecretMetadata(ctx, caller, projectName, name, change) {
    await writeTx(ctx, async (trx, audit) => {
        const project = await requireProject(trx, projectName);
        const s = await requireSecret(trx, project, name);
        const row = await trx.selectFrom('secrets').select(['description', 'tags']).where('id', '=', s.id).executeTakeFirstOrThrow();
        const tags = { ...parseTags(row.tags), ...change.tags };
        for (const k of change.removeTags ?? [])
            delete tags[k];
        if (Object.keys(tags).length > MAX_TAGS)
            throw new SikkerKeyError('SK_ERR_VALIDATION', `a secret holds at most ${MAX_TAGS} tags`);
        const description = change.description === undefined ? row.description : change.description;
        await trx.updateTable('secrets').set({ description, tags: Object.keys(tags).length ? JSON.stringify(tags) : null }).where('id', '=', s.id).execute();
        await audit({
            action: 'secret.describe', projectId: project.id, target: `secret:${projectName}/${name}`, outcome: 'success',
            details: { description: change.description !== undefined, tags: Object.keys(change.tags ?? {}), removedTags: change.removeTags ?? [] },
        }, caller);
    });
    return describeSecret(ctx, projectName, name);
}
export async function renameSecret(ctx, caller, projectName, name, to) {
    try {
        await writeTx(ctx, async (trx, audit) => {
            const project = await requireProject(trx, projectName);
            const s = await requireSecret(trx, project, name);
            const taken = await trx.selectFrom('secrets').select(['deleted_at']).where('project_id', '=', project.id).where('name', '=', to).executeTakeFirst();
            if (taken) {
                throw new SikkerKeyError('SK_ERR_CONFLICT', taken.deleted_at !== null
                    ? `a secret named ${JSON.stringify(to)} is in the trash: purge it first`
                    : `project ${JSON.stringify(projectName)} already has a secret named ${JSON.stringify(to)}`);
            }
            await trx.updateTable('secrets').set({ name: to }).where('id', '=', s.id).execute();
            await audit({ action: s.is_canary === 1 ? 'canary.rename' : 'secret.rename', projectId: project.id, target: `secret:${projectName}/${to}`, outcome: 'success', details: { from: name, to, secretId: s.id } }, caller);
        });
    }
    catch (err) {
        if (isUniqueViolation(err))
            throw new SikkerKeyError('SK_ERR_CONFLICT', `project ${JSON.stringify(projectName)} already has a secret named ${JSON.stringify(to)}`);
        throw err;
    }
    return describeSecret(ctx, projectName, to);
}
//# sourceMappingURL=secret-metadata.js.map
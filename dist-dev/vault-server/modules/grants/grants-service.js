import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { writeTx } from '../../context.js';
import { requireProject } from '../projects/projects-service.js';
import { requireMachine } from '../machines/machines-service.js';
/**
 * Grants a machine a project, one secret of it, or chosen fields of one structured secret.
 * Granting the same scope again replaces its field list (audited like any change).
 */
export async function addGrant(ctx, caller, req) {
    if (req.fields && !req.secret)
        throw new SikkerKeyError('SK_ERR_VALIDATION', '--fields needs --secret: field grants belong to one structured secret');
    return writeTx(ctx, async (trx, audit) => {
        const machine = await requireMachine(trx, req.machine);
        const project = await requireProject(trx, req.project);
        let secretId = null;
        if (req.secret) {
            const s = await trx.selectFrom('secrets').select(['id', 'kind']).where('project_id', '=', project.id).where('name', '=', req.secret).where('deleted_at', 'is', null).executeTakeFirst();
            if (!s)
                throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.secret)} in project ${JSON.stringify(req.project)}`);
            if (req.fields && s.kind === 'plain')
                throw new SikkerKeyError('SK_ERR_VALIDATION', `secret ${req.secret} is plain: it has no fields to grant`);
            secretId = s.id;
        }
        const fields = req.fields ? JSON.stringify([...new Set(req.fields)].sort()) : null;
        const existing = await trx.selectFrom('grants').select('id').where('machine_id', '=', machine.id).where('project_id', '=', project.id)
            .where((eb) => (secretId === null ? eb('secret_id', 'is', null) : eb('secret_id', '=', secretId))).executeTakeFirst();
        const id = existing?.id ?? randomUUID();
        const now = ctx.now();
        if (existing) {
            await trx.updateTable('grants').set({ fields }).where('id', '=', id).execute();
        }
        else {
            await trx.insertInto('grants').values({ id, machine_id: machine.id, project_id: project.id, secret_id: secretId, fields, created_at: now, created_by: `${caller.kind}:${caller.id}` }).execute();
        }
        await audit({
            action: existing ? 'grant.update' : 'grant.add', projectId: project.id, target: `machine:${machine.name}`, outcome: 'success',
            details: { machineId: machine.id, project: req.project, secret: req.secret ?? null, fields: req.fields ?? null },
        }, caller);
        return { id, machine: machine.name, project: req.project, secret: req.secret ?? null, fields: req.fields ?? null, createdAt: now };
    });
}
export async function listGrants(ctx, filter = {}) {
    let q = ctx.store.db.selectFrom('grants')
        .innerJoin('machines', 'machines.id', 'grants.machine_id')
        .innerJoin('projects', 'projects.id', 'grants.project_id')
        .leftJoin('secrets', 'secrets.id', 'grants.secret_id')
        .select(['grants.id as id', 'machines.name as machine', 'projects.name as project', 'secrets.name as secret', 'grants.fields as fields', 'grants.created_at as createdAt']);
    if (filter.machine)
        q = q.where((eb) => eb.or([eb('machines.name', '=', filter.machine), eb('machines.id', '=', filter.machine)]));
    if (filter.project)
        q = q.where('projects.name', '=', filter.project);
    const rows = await q.orderBy('machines.name').execute();
    return rows.map((r) => ({ ...r, secret: r.secret ?? null, fields: r.fields ? JSON.parse(r.fields) : null }));
}
export async function removeGrant(ctx, caller, id) {
    await writeTx(ctx, async (trx, audit) => {
        const g = await trx.selectFrom('grants').select(['id', 'project_id', 'machine_id']).where('id', '=', id).executeTakeFirst();
        if (!g)
            throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such grant');
        await trx.deleteFrom('grants').where('id', '=', id).execute();
        await audit({ action: 'grant.remove', projectId: g.project_id, target: `grant:${id}`, outcome: 'success', details: { machineId: g.machine_id } }, caller);
    });
}
//# sourceMappingURL=grants-service.js.map
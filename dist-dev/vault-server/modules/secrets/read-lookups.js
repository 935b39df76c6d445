const mapsOf = new WeakMap();
function maps(caches) {
    let m = mapsOf.get(caches);
    if (!m) {
        m = { machines: caches.map(), projects: caches.map(), grants: caches.map(), secrets: caches.map(), live: caches.map(10_000) };
        mapsOf.set(caches, m);
    }
    return m;
}
/** Reads the change counter with `trx` and returns lookups valid for the rest of this transaction, until it writes a cached table. */
export async function readLookups(ctx, trx) {
    const m = maps(ctx.caches);
    const view = await ctx.caches.view(trx);
    return {
        machineStatus: (id) => view.get(m.machines, id, async () => (await trx.selectFrom('machines').select('status').where('id', '=', id).executeTakeFirst())?.status),
        project: (name) => view.get(m.projects, name, () => trx.selectFrom('projects').select(['id', 'name', 'master_key_wrapped', 'key_version', 'locked_at']).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst()),
        grants: (machineId, projectId) => view.get(m.grants, `${machineId}\u0000${projectId}`, () => trx.selectFrom('grants').select(['secret_id', 'fields']).where('machine_id', '=', machineId).where('project_id', '=', projectId).execute()),
        secret: (projectId, name) => view.get(m.secrets, `${projectId}\u0000${name}`, () => trx.selectFrom('secrets').select(['id', 'name', 'kind', 'is_canary', 'canary_lock_machine_projects', 'current_version'])
            .where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst()),
        liveVersion: (secretId) => view.get(m.live, secretId, () => trx.selectFrom('secret_versions').select(['version', 'ciphertext', 'wrapped_data_key', 'project_key_version'])
            .where('secret_id', '=', secretId).where('state', '=', 'live').executeTakeFirst()),
    };
}
//# sourceMappingURL=read-lookups.js.map
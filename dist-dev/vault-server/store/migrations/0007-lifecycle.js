export function lifecycleMigration(dialect) {
    const ms = dialect === 'postgres' ? 'bigint' : 'integer';
    return {
        async up(db) {
            await db.schema.alterTable('projects').addColumn('deleted_at', ms).execute();
            await db.schema.alterTable('projects').addColumn('deleted_by', 'text').execute();
            await db.schema.alterTable('secrets').addColumn('deleted_at', ms).execute();
            await db.schema.alterTable('secrets').addColumn('deleted_by', 'text').execute();
            await db.schema.alterTable('secrets').addColumn('description', 'text').execute();
            await db.schema.alterTable('secrets').addColumn('tags', 'text').execute();
            await db.schema.alterTable('rotation_policies').addColumn('paused_reason', 'text').execute();
        },
        async down(db) {
            await db.schema.alterTable('rotation_policies').dropColumn('paused_reason').execute();
            for (const c of ['tags', 'description', 'deleted_by', 'deleted_at'])
                await db.schema.alterTable('secrets').dropColumn(c).execute();
            for (const c of ['deleted_by', 'deleted_at'])
                await db.schema.alterTable('projects').dropColumn(c).execute();
        },
    };
}
//# sourceMappingURL=0007-lifecycle.js.map
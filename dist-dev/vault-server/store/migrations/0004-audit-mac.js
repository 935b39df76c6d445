export function auditMacMigration(_dialect) {
    return {
        async up(db) {
            await db.schema.alterTable('audit_events').addColumn('mac', 'text').execute();
            await db.schema.alterTable('audit_head').addColumn('mac', 'text').execute();
        },
        async down(db) {
            await db.schema.alterTable('audit_head').dropColumn('mac').execute();
            await db.schema.alterTable('audit_events').dropColumn('mac').execute();
        },
    };
}
//# sourceMappingURL=0004-audit-mac.js.map
export function forUpdate(on, qb, opts = {}) {
    if (dialectOf(on) !== 'postgres')
        return qb;
    const locked = qb.forUpdate();
    return opts.skipLocked ? locked.skipLocked() : locked;
}
export function forShare(on, qb, opts = {}) {
    if (dialectOf(on) !== 'postgres')
        return qb;
    const locked = qb.forShare();
    return opts.skipLocked ? locked.skipLocked() : locked;
}
/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export async function transaction(store, fn, opts = {}) {
    return store.db.transaction().setAccessMode(opts.write ?? true ? 'read write' : 'read only').execute(fn);
}
const UNIQUE_CODES = new Set([
    '23505', // PostgreSQL unique_violation (primary keys included)
    'SQLITE_CONSTRAINT_UNIQUE',
    'SQLITE_CONSTRAINT_PRIMARYKEY',
]);
/** True when `err` (or an error it wraps) is a unique/primary-key violation on either dialect. */
export function isUniqueViolation(err) {
    let current = err;
    for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
        const code = current.code;
        if (typeof code === 'string' && UNIQUE_CODES.has(code))
            return true;
        current = current.cause;
    }
    return false;
}
function dialectOf(on) {
    return typeof on === 'string' ? on : on.dialect;
}
//# sourceMappingURL=locks.js.map
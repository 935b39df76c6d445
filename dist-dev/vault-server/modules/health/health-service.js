/**
 * What `/readyz` and `/metrics` look at. Readiness is three facts, each checked on every call:
 * the store answers, no migration is pending, and the root key in memory opens this store's check
 * value. Answers carry states and counts only — never a driver message (it could name internal
 * hosts), a key, a key id or a secret.
 *
 * @example
 *   const r = await readiness(ctx);   // { ready: true, checks: { store: 'ok', migrations: 'current', rootKey: 'loaded' } }
 */
import { Gauge } from 'prom-client';
import { sql } from 'kysely';
import { migrationStatus } from '../../store/open-store.js';
import { CHECK_KEY } from '../../vault-state.js';
/** A store that does not answer within this is "unreachable" for readiness (a black-holed host would otherwise hold the probe for the pool's connect timeout). */
export const READY_TIMEOUT_MS = 2000;
function withTimeout(p, ms) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
export async function readiness(ctx) {
    const checks = { store: 'unreachable', migrations: 'unknown', rootKey: 'unknown' };
    try {
        await withTimeout(ctx.store.ping(), READY_TIMEOUT_MS);
        checks.store = 'ok';
        const status = await withTimeout(migrationStatus(ctx.store), READY_TIMEOUT_MS);
        checks.migrations = status.current ? 'current' : 'pending';
        const row = await withTimeout(ctx.store.db.selectFrom('vault_meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst(), READY_TIMEOUT_MS);
        try {
            if (row === undefined)
                throw new Error('no check value');
            ctx.keyring.verifyCheckValue(row.value);
            checks.rootKey = 'loaded';
        }
        catch {
            checks.rootKey = 'mismatch';
        }
    }
    catch {
        // The first check that could not be made, and everything after it, stay as they are.
    }
    return { ready: checks.store === 'ok' && checks.migrations === 'current' && checks.rootKey === 'loaded', checks };
}
/**
 * Registers gauges computed at scrape time from the store: rotation jobs by state (one grouped
 * query; the counters in `ctx.metrics` count what this process did, these count what the store
 * holds, the same on every replica). A store that does not answer leaves them empty for that scrape.
 */
export function registerStoreGauges(ctx) {
    new Gauge({
        name: 'sikkerkey_rotation_jobs',
        help: 'Rotation jobs in the store, by state',
        labelNames: ['state'],
        registers: [ctx.metrics.registry],
        async collect() {
            this.reset();
            try {
                const rows = await withTimeout(ctx.store.db.selectFrom('rotations').select(['state', sql `count(*)`.as('n')]).groupBy('state').execute(), READY_TIMEOUT_MS);
                for (const r of rows)
                    this.set({ state: r.state }, Number(r.n));
            }
            catch {
                // unreachable store: /readyz says so; the scrape still answers
            }
        },
    });
}
//# sourceMappingURL=health-service.js.map
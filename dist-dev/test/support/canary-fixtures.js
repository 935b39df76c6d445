import { VaultClient } from '../../protocol/client.js';
import { listAudit } from '../../vault-server/modules/audit/audit-store.js';
import { TEST_AUTHORITY } from './vault-app.js';
/**
 * Starts the test vault's fastify app listening on 127.0.0.1 (a free port). Clients sign for the
 * test authority, which the vault was built with; the Host header they send (127.0.0.1:port) is
 * not in its list, so the vault falls back to that first authority.
 */
export async function serveOverHttp(v) {
    await v.app.listen({ host: '127.0.0.1', port: 0 });
    const address = v.app.server.address();
    if (!address || typeof address !== 'object')
        throw new Error('the test vault did not bind a TCP port');
    const url = `http://127.0.0.1:${address.port}`;
    const clients = [];
    return {
        url,
        client: (key) => {
            const c = new VaultClient({ url, key: { keyId: key.keyId, privateKey: key.privateKey }, authority: TEST_AUTHORITY, timeoutMs: 60_000 });
            clients.push(c);
            return c;
        },
        close: () => { for (const c of clients)
            c.close(); },
    };
}
/** The audit events with one of these actions, in chain order. */
export async function auditEvents(v, ...actions) {
    const all = await listAudit(v.ctx.store.db, { limit: 10_000 });
    return actions.length === 0 ? all : all.filter((e) => actions.includes(e.action));
}
/** The error code of an injected answer, if it is an error. */
export function codeOf(res) {
    return res.body?.error?.code;
}
/** A project's lock state as operators see it (`project list`). */
export async function projectLock(v, name) {
    const res = await v.call(v.operator, 'GET', '/v1/projects');
    const p = res.body.projects.find((x) => x.name === name);
    if (!p)
        throw new Error(`no project ${name}`);
    return { locked: p.locked, lockedReason: p.lockedReason };
}
/** A machine's status as operators see it (`machine list`). */
export async function machineStatus(v, name) {
    const res = await v.call(v.operator, 'GET', '/v1/machines');
    const m = res.body.machines.find((x) => x.name === name);
    if (!m)
        throw new Error(`no machine ${name}`);
    return m.status;
}
//# sourceMappingURL=canary-fixtures.js.map
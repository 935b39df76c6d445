// The canary race (DESIGN §5), in-process on both stores: 200 reads of real secrets from four
// machines over real HTTP, with one canary read launched in the middle. No read that starts after
// the canary's answer arrived (so after its transaction committed) may be served — checked from
// the client's clock and, independently, from the audit chain's order on the server. The body is
// test/support/canary-race.ts, shared with the `serve --workers 2` run (canary-race-workers.test.ts).
import { test } from 'node:test';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { auditEvents, serveOverHttp } from '../support/canary-fixtures.js';
import { runCanaryRace } from '../support/canary-race.js';
forEachStore('canary race', (s) => {
    test('200 concurrent reads and one canary read: no read that starts after the canary committed is served', async () => {
        const v = await startTestVault(await s.open());
        const served = await serveOverHttp(v);
        try {
            const r = await runCanaryRace({
                call: (method, target, body) => v.call(v.operator, method, target, body),
                addMachine: (name) => v.addMachine(name),
                client: (key) => served.client(key),
                auditEvents: (...actions) => auditEvents(v, ...actions),
            });
            console.log(`canary race: ${r.reads} reads, ${r.servedBeforeLock} served before lock, ${r.servedAfterLock} served after lock`);
        }
        finally {
            served.close();
            await v.close();
        }
    });
});
//# sourceMappingURL=canary-race.test.js.map
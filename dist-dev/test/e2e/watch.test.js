// Consumers follow: an application watching a secret through the client library learns of each
// promotion (DESIGN §6 asks for within a second; the median delay is printed, and asserted only
// against a bound ten times that, since this runs on a shared 2-core machine).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { engineFixture } from '../support/engine-fixtures.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import { randomTag } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
test('a watcher on the client library sees each of 20 promotions (median delay printed, bounded at 10 s)', async () => {
    const fx = await engineFixture('redis');
    const user = `sk_watch_${randomTag(3)}`;
    const pw = `pw-${randomTag(8)}`;
    await fx.createUsers([{ username: user, password: pw }]);
    const h = await startRotationHarness({ engine: 'redis', target: fx.target(user, pw), admin: fx.admin, lease: '10s' });
    const abort = new AbortController();
    after(async () => {
        abort.abort();
        await h.close();
        await fx.cleanup();
    });
    const agent = await h.startAgent();
    const key = (name) => {
        const k = readPrivateKeyFile(join(h.dir, name));
        return new VaultClient({ url: h.url, key: { keyId: k.keyId, privateKey: k.privateKey } });
    };
    const operator = key('operator.key');
    const app = key('app.key');
    const seen = new Map(); // version → when the watcher saw it
    const watching = (async () => {
        // The longest wait the vault allows: a watcher that learned of a version only when its wait ran
        // out would show a median near 30 s, far above the bound below.
        for await (const value of app.watch('db', 'app', { signal: abort.signal, waitSeconds: 60 }))
            seen.set(value.version, Date.now());
    })().catch((err) => { if (!abort.signal.aborted)
        throw err; });
    const delays = [];
    for (let i = 0; i < 20; i++) {
        const { body } = await operator.request('POST', '/v1/projects/db/secrets/app/rotation/run');
        const job = await waitFor(async () => (await operator.request('GET', `/v1/rotations/${body.id}`)).body, {
            what: `rotation ${i} to finish`, timeoutMs: 60_000, intervalMs: 20, until: (j) => ['promoted', 'failed', 'stuck'].includes(j.state),
        });
        assert.equal(job.state, 'promoted', `rotation ${i}`);
        const version = (await app.getSecret('db', 'app')).version;
        await waitFor(() => seen.has(version), { what: `the watcher to see version ${version}`, timeoutMs: 30_000, intervalMs: 10, show: () => `versions ${[...seen.keys()].join(',')}` });
        delays.push(seen.get(version) - job.finishedAt);
    }
    delays.sort((x, y) => x - y);
    const median = delays[Math.floor(delays.length / 2)];
    console.log(`watch: 20 promotions, median ${median} ms from promotion to the watcher (max ${delays[delays.length - 1]} ms)`);
    // The design's figure is 1 s; 10 s keeps a slow, shared machine from failing a healthy watch,
    // while a watch that is not woken by promotions (and waits out its 60 s) still fails.
    assert.ok(median <= 10_000, `median ${median} ms`);
    abort.abort();
    await watching;
    await agent.stop();
});
//# sourceMappingURL=watch.test.js.map
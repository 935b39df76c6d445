/**
 * "50 concurrent writes leave one unbroken chain", shared by the in-process run on both stores
 * (audit-chain.test.ts) and the run through a real `serve --workers 2` (audit-chain-workers.test.ts).
 */
import assert from 'node:assert/strict';
/** A project, then 50 concurrent secret writes: all succeed and the chain holds every one of them, unforked. */
export async function fiftyConcurrentWrites(v) {
    const before = (await v.verify()).events;
    await v.call('POST', '/v1/projects', { name: 'p' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => v.call('PUT', `/v1/projects/p/secrets/s${i % 10}`, { value: `v${i}` })));
    assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.find((r) => r.status !== 200)?.body));
    const report = await v.verify();
    assert.equal(report.ok, true, JSON.stringify(report.firstBad));
    assert.ok(report.events >= 52);
    assert.equal(report.events, before + 51, 'one event for the project and one per write');
    const events = await v.events();
    assert.equal(events.length, report.events);
    const prevs = new Set(events.map((e) => e.prevHash));
    assert.equal(prevs.size, events.length, 'no two events share a predecessor (no fork)');
    return { events: report.events };
}
//# sourceMappingURL=audit-chain-writes.js.map
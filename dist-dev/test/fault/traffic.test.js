// The traffic test, reduced for `npm test` (10 rotations each on Redis); `npm run fault` runs 50
// rotations on every engine and strategy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTraffic, trafficLine } from './traffic.js';
// Three rigs of ten rotations each, every rotation after the first waiting out a 1 s grace period:
// 38–67 s measured on a 2-core machine at load 4–9, so it can pass the runner's default 120 s
// under more load. Each rotation bounds its own waits (60 s).
test('an application opening connections during back-to-back rotations loses none under dual and alternating', { timeout: 600_000 }, async () => {
    const single = await runTraffic({ engine: 'redis', strategy: 'single' }, 10, '1s');
    console.log(`${trafficLine(single)}   (baseline: single has a window between applied and the app learning the new value)`);
    for (const strategy of ['dual', 'alternating']) {
        const r = await runTraffic({ engine: 'redis', strategy }, 10, '1s');
        console.log(trafficLine(r));
        // That the app really made traffic, not a speed claim: a loaded 2-core machine still shows ~900.
        assert.ok(r.ok > 100, `the app made only ${r.ok} connections`);
        assert.ok(r.versions >= 10, `the app followed only ${r.versions} versions`);
        assert.equal(r.failed + r.errors, 0, JSON.stringify(r));
    }
});
//# sourceMappingURL=traffic.test.js.map
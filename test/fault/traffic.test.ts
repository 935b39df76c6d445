// The traffic test, reduced for `npm test` (10 rotations each on Redis); `npm run fault` runs 50
// rotations on every engine and strategy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTraffic, trafficLine } from './traffic.js';

test('an application opening connections during back-to-back rotations loses none under dual and alternating', async () => {
  const single = await runTraffic({ engine: 'redis', strategy: 'single' }, 10, '1s');
  console.log(`${trafficLine(single)}   (baseline: single has a window between applied and the app learning the new value)`);
  for (const strategy of ['dual', 'alternating'] as const) {
    const r = await runTraffic({ engine: 'redis', strategy }, 10, '1s');
    console.log(trafficLine(r));
    assert.ok(r.ok > 100, `the app made only ${r.ok} connections`);
    assert.ok(r.versions >= 10, `the app followed only ${r.versions} versions`);
    assert.equal(r.failed + r.errors, 0, JSON.stringify(r));
  }
});

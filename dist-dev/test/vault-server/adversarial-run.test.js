// A small adversarial run inside `npm test` (docs/adversarial.md; `npm run adversarial` is the
// full 100,000-request one): signature-header fuzzing, every route's inputs signed by the operator
// and the machine, replays, mutations of covered components and of signatures, oversized, deeply
// nested and slow bodies — against an in-process vault over a fresh SQLite store (slow bodies over
// a real socket). It asserts the zeros of the run's last line and the other rules (registered
// codes, no accepted body abuse, no parser escapes, no pollution, no hangs), and that every
// category really sent requests, so it cannot pass by doing nothing. SK_ADVERSARIAL_SEED replays
// a given seed; SK_ADVERSARIAL_REQUESTS changes the size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultLine, runAdversarial, SHARE } from '../../bench/adversarial/run-adversarial.js';
import { MUTATIONS } from '../../bench/adversarial/replays-mutations.js';
import { CATEGORIES } from '../../bench/adversarial/tally.js';
const REQUESTS = Number(process.env.SK_ADVERSARIAL_REQUESTS ?? 2_000);
const SEED = Number(process.env.SK_ADVERSARIAL_SEED ?? 19_005);
test(`adversarial run of ${REQUESTS} requests: 0 5xx, 0 crashes, 0 replays accepted, 0 mutations accepted`, { timeout: 180_000 }, async () => {
    const report = await runAdversarial({ requests: REQUESTS, seed: SEED, requestTimeoutMs: 1_500 });
    console.log(`${resultLine(report)} (seed ${report.seed}, ${report.seconds.toFixed(1)} s, handlers reached on ${report.routesReached} of ${report.routes} routes)`);
    for (const e of report.examples)
        console.log(`  [${e.category}] ${e.kind}: ${e.detail}`);
    // The line's zeros, and the other rules.
    assert.equal(report.fivexx, 0, '5xx answers');
    assert.equal(report.crashes, 0, 'crashes (unhandled rejections, uncaught exceptions, /healthz failures)');
    assert.equal(report.replaysAccepted, 0, 'replays accepted');
    assert.equal(report.mutationsAccepted, 0, 'mutations accepted');
    assert.equal(report.unregistered, 0, 'refusals without a registered code');
    assert.equal(report.bodiesAccepted, 0, 'hostile bodies accepted');
    assert.equal(report.parserEscapes, 0, 'parser or verifier errors other than a registered SikkerKeyError');
    assert.equal(report.prototypePolluted, 0, 'Object.prototype polluted');
    assert.equal(report.hangs, 0, 'sockets neither answered nor closed');
    assert.equal(report.setupFailures, 0, 'valid requests the run needed accepted were refused');
    assert.equal(report.ok, true);
    // Not vacuous: every category sent what it was meant to, and the refusals were real answers.
    assert.ok(report.requests >= REQUESTS * 0.98, `requests sent: ${report.requests} of ${REQUESTS}`);
    for (const c of CATEGORIES) {
        const planned = Math.round(REQUESTS * SHARE[c]);
        assert.ok(report.categories[c].requests >= planned * 0.95, `${c}: ${report.categories[c].requests} requests of ${planned}`);
    }
    assert.ok((report.categories['signature-fuzz'].statuses['401'] ?? 0) > 0, 'signature fuzz got 401s');
    assert.equal(report.replay.originalsRefused, 0, 'every captured request was accepted once before its replay');
    assert.ok(report.replay.replays > 0 && (report.categories.replays.codes.SK_ERR_SIGNATURE_REPLAYED ?? 0) > 0, 'replays were refused as replays');
    for (const [name, m] of Object.entries(report.mutationsByKind))
        assert.ok(m.requests > 0, `mutation ${name} was never tried`);
    assert.equal(Object.keys(report.mutationsByKind).length, Object.keys(MUTATIONS).length);
    // Route inputs reached handlers (not only refusals at the auth hook or the schema) on most routes.
    assert.ok((report.categories['route-inputs'].statuses['200'] ?? 0) > 0, 'some route inputs succeeded');
    assert.ok(report.routesReached >= report.routes / 2, `handlers reached on ${report.routesReached} of ${report.routes} routes`);
    // Every kind of slow or oversized socket was tried and ended.
    assert.ok(Object.keys(report.slowSockets).length >= 8, `socket scripts run: ${Object.keys(report.slowSockets).join(', ')}`);
    assert.ok(report.healthChecks.done > 0 && report.healthChecks.failed === 0);
});
//# sourceMappingURL=adversarial-run.test.js.map
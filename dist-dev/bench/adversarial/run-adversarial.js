/**
 * The adversarial run (issue 19, item 5): hostile requests in five categories against an
 * in-process vault over a fresh SQLite store (startTestVault; the same fastify app `serve`
 * builds, driven through inject for speed and, for slow bodies, listening on a real socket).
 * docs/adversarial.md describes it; bench/adversarial/main.ts is its command line and
 * test/vault-server/adversarial-run.test.ts runs a small one inside `npm test`.
 *
 * A crash is an `unhandledRejection` or `uncaughtException` in this process while the run lasts,
 * or a /healthz that does not answer 200 (checked after every category, over inject and TCP).
 *
 * @example
 *   const report = await runAdversarial({ requests: 100_000 });
 *   console.log(resultLine(report)); // adversarial: 100000 requests, 0 5xx, 0 crashes, 0 replays accepted, 0 mutations accepted
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { planBodies, runBodies, runSlowSockets } from './body-abuse.js';
import { startHarness } from './harness.js';
import { runMutations, runReplays } from './replays-mutations.js';
import { runRouteInputs } from './route-inputs.js';
import { runSignatureFuzz } from './signature-fuzz.js';
import { Tally, clean } from './tally.js';
export { resultLine } from './tally.js';
/** Each category's share of the requests; replays are 10 % (10,000 of the default 100,000). */
export const SHARE = { 'signature-fuzz': 0.2, 'route-inputs': 0.4, replays: 0.1, mutations: 0.25, bodies: 0.05 };
export const BODY_LIMIT = 256 * 1024;
function split(total) {
    const out = {};
    let left = total;
    const cats = Object.keys(SHARE);
    cats.forEach((c, i) => {
        out[c] = i === cats.length - 1 ? left : Math.round(total * SHARE[c]);
        left -= out[c];
    });
    return out;
}
function tcpHealth(port) {
    return new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5_000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode === 200));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
    });
}
export async function runAdversarial(opts = {}) {
    const started = performance.now();
    const total = opts.requests ?? 100_000;
    if (!Number.isInteger(total) || total < 50)
        throw new Error('the adversarial run needs at least 50 requests');
    const seed = opts.seed ?? Math.floor(Math.random() * 0x7fffffff);
    const requestTimeoutMs = opts.requestTimeoutMs ?? 3_000;
    const progress = opts.progress ?? (() => undefined);
    const planned = split(total);
    const tally = new Tally();
    const notes = [
        'vault: in-process startTestVault over a fresh SQLite store (the app `serve` builds); inject for every category but slow sockets, which use the same app listening on 127.0.0.1',
        `listener timeouts for the run: headers ${Math.round(requestTimeoutMs * 2 / 3)} ms, request ${requestTimeoutMs} ms (serve's defaults: 10 s / 30 s)`,
        'identities: operator (owner) and machine keys; AI-agent keys do not exist yet, so no route is tried with one',
        'a HEAD answer has no body: its status is checked, its code cannot be',
    ];
    const onCrash = (kind) => (err) => {
        tally.fail('process', 'crashes', `${kind}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    };
    const onRejection = onCrash('unhandledRejection');
    const onException = onCrash('uncaughtException');
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    const loop = monitorEventLoopDelay({ resolution: 20 });
    loop.enable();
    let h;
    const health = { done: 0, failed: 0 };
    try {
        h = await startHarness({ seed, limits: { requestTimeoutMs, headersTimeoutMs: Math.round(requestTimeoutMs * 2 / 3), checkIntervalMs: 250 } });
        const harness = h;
        await harness.v.app.listen({ host: '127.0.0.1', port: 0 });
        const port = harness.v.app.server.address().port;
        const checkHealth = async (after) => {
            const viaInject = await harness.v.app.inject({ method: 'GET', url: '/healthz' }).then((r) => r.statusCode === 200, () => false);
            const viaTcp = await tcpHealth(port);
            health.done += 2;
            for (const [how, ok] of [['inject', viaInject], ['tcp', viaTcp]]) {
                if (!ok) {
                    health.failed += 1;
                    tally.fail('process', 'crashes', `/healthz over ${how} did not answer 200 after ${after}`);
                }
            }
        };
        const timed = async (name, fn) => {
            const t = performance.now();
            const out = await fn();
            progress(`${name}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
            await checkHealth(name);
            return out;
        };
        const bodyPlan = planBodies(planned.bodies);
        progress(`seed ${seed}; ${total} requests: ${JSON.stringify(planned)}`);
        // Slow sockets take seconds of waiting, not CPU: they run alongside the inject categories.
        const slow = timed(`slow sockets (${bodyPlan.sockets})`, () => runSlowSockets(harness, tally, bodyPlan.sockets, { bodyLimit: BODY_LIMIT, requestTimeoutMs }));
        await timed(`signature fuzz (${planned['signature-fuzz']})`, () => runSignatureFuzz(harness, tally, planned['signature-fuzz']));
        const inputs = await timed(`route inputs (${planned['route-inputs']})`, () => runRouteInputs(harness, tally, planned['route-inputs']));
        for (const u of inputs.unsendable)
            notes.push(`route input the signer refused (drawn again): ${u}`);
        const replay = await timed(`replays (${planned.replays})`, () => runReplays(harness, tally, planned.replays));
        const mutations = await timed(`mutations (${planned.mutations})`, () => runMutations(harness, tally, planned.mutations));
        await timed(`bodies (${planned.bodies - bodyPlan.sockets} inject)`, () => runBodies(harness, tally, bodyPlan, BODY_LIMIT));
        const slowSockets = await slow;
        await checkHealth('the run');
        const handlerHits = Object.fromEntries([...harness.handlerHits].sort(([a], [b]) => a.localeCompare(b)));
        const summary = tally.summary();
        return {
            ...summary, ok: clean(summary), seed, seconds: (performance.now() - started) / 1000, planned,
            handlerHits, routes: harness.routes.length, routesReached: Object.values(handlerHits).filter((n) => n > 0).length,
            replay, mutationsByKind: mutations.byMutation, slowSockets, eventLoopMaxMs: Math.round(loop.max / 1e6), healthChecks: health, loggedErrors: harness.loggedErrors, notes,
        };
    }
    finally {
        loop.disable();
        if (h)
            await h.close();
        // Let anything the closing app left behind surface while the hooks still count it.
        await new Promise((r) => setTimeout(r, 50));
        process.off('unhandledRejection', onRejection);
        process.off('uncaughtException', onException);
    }
}
//# sourceMappingURL=run-adversarial.js.map
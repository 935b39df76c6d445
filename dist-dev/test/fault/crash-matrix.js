/**
 * The crash matrix (issue "Proving it"): for each engine and strategy, SIGKILL the agent at every
 * step it owns and the vault at every step it owns, restart, and check that the rotation ends
 * promoted or failed (a `stuck` one counts as a failure of the case), that the live credential in
 * the vault logs in to the real database, and that no credential is lost.
 * Used by crash-matrix.test.ts (a reduced matrix, in `npm test`) and run-fault.ts (`npm run fault`).
 */
import { join } from 'node:path';
import { engineFixture, fixtureCombos, loginWithFields } from '../support/engine-fixtures.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import { randomTag } from '../support/services.js';
import { WaitTimeoutError, waitFor } from '../support/wait.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
export const AGENT_POINTS = ['after-claim', 'after-update', 'after-applied', 'after-verify', 'after-confirm'];
export const VAULT_POINTS = ['vault-after-create', 'vault-after-claim-commit', 'vault-after-confirm-commit'];
/** From the engine table: every strategy each fixture's flavour runs. */
export const ALL_COMBOS = fixtureCombos();
export async function startRig(combo, opts = {}) {
    const fx = await engineFixture(combo.engine);
    const a = `sk_cm_a_${randomTag(3)}`;
    const b = `sk_cm_b_${randomTag(3)}`;
    const pw = `start-${randomTag(10)}`;
    await fx.createUsers(combo.strategy === 'alternating' ? [{ username: a, password: pw }, { username: b, password: `other-${randomTag(10)}` }] : [{ username: a, password: pw }]);
    const h = await startRotationHarness({
        engine: combo.engine, target: fx.target(a, pw), admin: fx.admin, strategy: combo.strategy, lease: '3s',
        ...(combo.strategy !== 'single' ? { grace: opts.grace ?? '1s' } : {}), ...(combo.strategy === 'alternating' ? { alternateUsername: b } : {}),
        ...(opts.serveArgs ? { serveArgs: opts.serveArgs } : {}),
    });
    const k = readPrivateKeyFile(join(h.dir, 'operator.key'));
    const operator = new VaultClient({ url: h.url, key: { keyId: k.keyId, privateKey: k.privateKey } });
    return { combo, fx, h, operator, close: async () => { await h.close(); await fx.cleanup(); } };
}
const UNFINISHED = new Set(['pending', 'claimed', 'applied']);
/**
 * Waits until the secret's newest job (retries and retire jobs included) is no longer unfinished.
 * A case that does not settle within the deadline is judged, not thrown: `timeout (<last state>)`
 * makes its outcome `stuck`.
 */
async function quiescent(rig, timeoutMs = 60_000) {
    try {
        return await waitFor(async () => {
            const { body } = await rig.operator.request('GET', '/v1/rotations');
            return body.policies.find((p) => p.secret === 'app')?.state ?? 'none';
        }, {
            what: 'the rotation to settle', timeoutMs, intervalMs: 150, until: (state) => !UNFINISHED.has(state),
            retryOn: true, // the vault may be restarting
        });
    }
    catch (err) {
        if (!(err instanceof WaitTimeoutError))
            throw err;
        return `timeout (${typeof err.lastSeen === 'string' ? err.lastSeen : 'unknown'})`;
    }
}
async function rotationState(rig, id) {
    try {
        return (await rig.operator.request('GET', `/v1/rotations/${id}`)).body.state;
    }
    catch {
        return 'unknown';
    }
}
/** One case: crash at `point`, recover, and judge. */
export async function runCase(rig, point) {
    const { h } = rig;
    const agents = [];
    let killedWorkers;
    try {
        let rotationId;
        if (AGENT_POINTS.includes(point)) {
            // The rotation first: it supersedes the preflight `rotation set` left pending. An agent
            // started first could claim that preflight and pause at after-claim on it instead.
            rotationId = (await rig.operator.request('POST', '/v1/projects/db/secrets/app/rotation/run')).body.id;
            const doomed = await h.startAgent({ faultAt: point });
            agents.push(doomed);
            await doomed.waitFor(new RegExp(`fault point reached: ${point}`));
            await doomed.stop('SIGKILL');
            agents.push(await h.startAgent({ name: 'rescuer' }));
        }
        else {
            await h.restartVault({ faultAt: point });
            agents.push(await h.startAgent());
            const run = rig.operator.request('POST', '/v1/projects/db/secrets/app/rotation/run').then((r) => r.body.id, () => undefined);
            await h.vault.waitFor(new RegExp(`fault point reached: ${point}`));
            const kills = h.vaultKills.length;
            await h.restartVault();
            if (h.vaultKills.length > kills)
                killedWorkers = h.vaultKills.at(-1);
            rotationId = await run; // lost when the vault died before answering
        }
        const settled = await quiescent(rig);
        const state = rotationId ? await rotationState(rig, rotationId) : settled;
        const live = await h.read();
        const works = await loginWithFields(rig.combo.engine, live.fields);
        const outcome = settled.startsWith('timeout') || settled === 'stuck' || state === 'stuck' ? 'stuck' : works ? 'recovered' : 'lost';
        return {
            combo: rig.combo, point, outcome, state, ...(outcome !== 'recovered' ? { detail: `settled ${settled}, live ${works ? 'works' : 'refused'}` } : {}),
            ...(killedWorkers ? { killedWorkers } : {}),
        };
    }
    catch (err) {
        return { combo: rig.combo, point, outcome: 'error', state: 'unknown', detail: err instanceof Error ? err.message.slice(0, 300) : String(err) };
    }
    finally {
        for (const a of agents)
            await a.stop('SIGKILL');
    }
}
export function summaryLine(results) {
    const recovered = results.filter((r) => r.outcome === 'recovered').length;
    const lost = results.filter((r) => r.outcome === 'lost').length;
    return `crash matrix: ${results.length} cases, ${recovered} recovered, ${lost} lost`;
}
/** `serveArgs`: more `sikkerkey-vault serve` arguments for every start of the vault, e.g. `['--workers', '2']`. */
export async function runMatrix(combos, points, log = () => undefined, opts = {}) {
    const results = [];
    for (const combo of combos) {
        const rig = await startRig(combo, opts.serveArgs ? { serveArgs: opts.serveArgs } : {});
        try {
            for (const point of points) {
                const r = await runCase(rig, point);
                log(`  ${combo.engine} ${combo.strategy} ${point}: ${r.outcome} (${r.state})${r.detail ? ` — ${r.detail}` : ''}${r.killedWorkers ? ` [killed the primary and workers ${r.killedWorkers.join(', ')}]` : ''}`);
                results.push(r);
            }
        }
        finally {
            await rig.close();
        }
    }
    return results;
}
//# sourceMappingURL=crash-matrix.js.map
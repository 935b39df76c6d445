/**
 * The agent's decision table, walked end to end: for every engine flavour × strategy the engine
 * table allows, every starting state and every fault the scripted fake engines can inject (see
 * test/support/fake-engine.ts — test-only fakes that model each engine's password slots, including
 * MySQL 8 `dual`, which no server here can run), the real runRotateJob / runRetireJob carry out
 * decide()'s actions against a fake vault that ends jobs with the vault's own failOutcome(). After
 * the rotation ends (retries are claimed again, with the transient faults gone) the invariant is
 * checked on the fake database: the live credential logs in, or the rotation was promoted and the
 * pending one logs in — neither only when the live one was already broken (and then `stuck`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { FLAVOURS, FLAVOUR_NAMES, STRATEGIES, allowedPairs } from '../../protocol/engines.js';
import { decideRotate, undoPlan } from '../../agent/rotation/decide.js';
import { runRotateJob } from '../../agent/rotation/run-job.js';
import { runRetireJob } from '../../agent/rotation/run-retire.js';
import { failOutcome } from '../../vault-server/modules/rotations/rotation-rules.js';
import { FakeDatabase, fakeProvider } from '../support/fake-engine.js';
const log = pino({ level: 'silent' });
const instant = async () => undefined;
const LIVE = 'live-pw';
const PENDING = 'pending-pw';
const OLD = 'old-pw';
const STANDBY_OLD = 'standby-old-pw';
const LIVE_USER = 'app';
const ALT_USER = 'app_b';
/** The vault's side of one rotation, reduced to its state machine (failOutcome is the vault's own). */
class FakeVault {
    kind;
    state = 'pending';
    attempt = 0;
    fails = [];
    constructor(kind) {
        this.kind = kind;
    }
    claim() {
        this.attempt += 1;
        this.state = 'claimed';
        return this.attempt;
    }
    async heartbeat() {
        return { leaseSeconds: 3600 };
    }
    async applied(id) {
        this.state = 'applied';
        return { id, state: 'applied' };
    }
    async confirm(id) {
        this.state = this.kind === 'retire' ? 'retired' : 'promoted';
        return { id, state: this.state };
    }
    async fail(id, body) {
        this.fails.push(body);
        this.state = failOutcome({ kind: this.kind, attempt: this.attempt }, body);
        return { id, state: this.state };
    }
}
/** The database as the case starts: who holds which password. */
function startingDatabase(c) {
    const slots = FLAVOURS[c.flavour].slots;
    const opts = { reusePolicy: c.reusePolicy };
    const users = (live, alt = [STANDBY_OLD]) => new FakeDatabase(slots, { [LIVE_USER]: live, [ALT_USER]: alt }, opts);
    switch (c.start) {
        case 'fresh':
        case 'maybe-nothing':
            return users([LIVE]);
        case 'live-broken':
            return users(['changed-by-hand']);
        case 'maybe-applied':
            // an earlier claim applied the pending credential and died
            if (c.strategy === 'alternating')
                return users([LIVE], [PENDING]);
            if (c.strategy === 'single')
                return users([PENDING]);
            return slots === 'set' ? users([LIVE, PENDING]) : users([PENDING, LIVE]); // Redis: both; MySQL 8: primary pending, retained live
        case 'maybe-undone':
            // MySQL 8: an earlier claim set the primary back to live and died before discarding
            return users([LIVE, LIVE]);
    }
}
const pendingUser = (strategy) => (strategy === 'alternating' ? ALT_USER : LIVE_USER);
function rotateJob(c, attempt) {
    const row = FLAVOURS[c.flavour];
    return {
        kind: 'rotate', id: 'rot-1', project: 'p', secret: 's', engine: row.engine, strategy: c.strategy, flavour: c.flavour,
        fence: attempt, leaseSeconds: 3600, attempt, admin: { host: 'db', port: '1', username: 'admin', password: 'admin-pw' },
        maybeApplied: attempt > 1 || c.start.startsWith('maybe'), username: pendingUser(c.strategy), pendingPassword: PENDING,
        livePassword: LIVE, target: { host: 'db', port: '1', username: LIVE_USER, password: LIVE },
    };
}
/** Claims the rotation until it ends; faults only in the first attempt (they are transient). */
async function runRotation(c) {
    const db = startingDatabase(c);
    const vault = new FakeVault('rotate');
    while (vault.state === 'pending' || vault.state === 'claimed' || vault.state === 'applied') {
        const attempt = vault.claim();
        if (attempt > 10)
            throw new Error('the rotation never ended');
        const provider = fakeProvider(c.flavour, db, attempt === 1 ? c.script : {}, { pending: PENDING, live: LIVE });
        await runRotateJob(rotateJob(c, attempt), provider, vault, log, { sleep: instant });
        if (vault.state === 'claimed' || vault.state === 'applied')
            throw new Error(`the job returned with the rotation ${vault.state}`);
    }
    return {
        state: vault.state, fails: vault.fails, db,
        liveWorks: db.logsIn(LIVE_USER, LIVE), pendingWorks: db.logsIn(pendingUser(c.strategy), PENDING),
    };
}
/** The promise, as a sentence when broken. */
function violation(c, e) {
    if (e.state === 'promoted' && e.pendingWorks)
        return undefined;
    if (e.state !== 'promoted' && e.liveWorks) {
        return e.state === 'failed' && e.fails.at(-1)?.liveVerified !== true && e.fails.at(-1)?.code !== 'SK_ERR_PROVIDER_UNAVAILABLE'
            ? 'failed without proof that live works' : undefined;
    }
    if (c.start === 'live-broken' && e.state === 'stuck')
        return undefined;
    return `${e.state}: live ${e.liveWorks ? 'works' : 'broken'}, pending ${e.pendingWorks ? 'works' : 'broken'}`;
}
function* rotateCases() {
    const pendingLogins = [
        undefined, { outcome: 'refused', times: 1 }, { outcome: 'refused', times: 3 }, { outcome: 'unknown', times: 3 }, { outcome: 'refused', times: 99 },
    ];
    const liveLogins = [undefined, { outcome: 'unknown', times: 1 }, { outcome: 'unknown', times: 99 }];
    const applies = [undefined, 'refused', 'lost-before', 'lost-after'];
    for (const { flavour, strategy } of allowedPairs()) {
        const slots = FLAVOURS[flavour].slots;
        const starts = ['fresh', 'maybe-nothing', 'maybe-applied', 'live-broken', ...(slots === 'primary+retained' && strategy === 'dual' ? ['maybe-undone'] : [])];
        const plan = undoPlan(slots, strategy);
        const undoScripts = plan.reduce((acc) => acc.flatMap((prefix) => ['ok', 'lost-before', 'lost-after'].map((r) => [...prefix, r])), [[]]);
        for (const reusePolicy of slots === 'primary+retained' ? [false, true] : [false]) {
            for (const start of starts) {
                for (const liveLogin of liveLogins) {
                    for (const pendingLogin of pendingLogins) {
                        const base = { ...(pendingLogin ? { pendingLogin } : {}), ...(liveLogin ? { liveLogin } : {}) };
                        yield { flavour, strategy, start, reusePolicy, script: { ...base, init: 'fail' } };
                        for (const apply of applies) {
                            for (const undo of undoScripts) {
                                yield { flavour, strategy, start, reusePolicy, script: { ...base, ...(apply ? { apply } : {}), ...(undo.length > 0 ? { undo } : {}) } };
                            }
                        }
                    }
                }
            }
        }
    }
}
const describeCase = (c) => `${c.flavour}/${c.strategy} start=${c.start}${c.reusePolicy ? ' reuse-policy' : ''} ${JSON.stringify(c.script)}`;
describe('agent decisions (scripted fake engines, every engine × strategy × outcome)', () => {
    test('every rotation ends with a working credential for applications', async () => {
        let cases = 0;
        const broken = [];
        const covered = new Set();
        for (const c of rotateCases()) {
            cases += 1;
            covered.add(`${c.flavour}/${c.strategy}`);
            const ending = await runRotation(c);
            const why = violation(c, ending);
            if (why !== undefined)
                broken.push(`${describeCase(c)} → ${why} (${ending.db.describe(LIVE_USER)})`);
        }
        // N covers every pair the table allows, MySQL 8 dual among them
        assert.deepEqual([...covered].sort(), allowedPairs().map((p) => `${p.flavour}/${p.strategy}`).sort());
        assert.ok(covered.has('mysql8/dual'));
        console.log(`agent decisions: ${cases} cases, ${broken.length} leave applications without a working credential`);
        assert.deepEqual(broken.slice(0, 10), [], `${broken.length} cases broke the promise`);
    });
    test('MySQL 8 dual: verify fails and the reuse policy refuses the undo → stuck, live still logs in as the retained password, nothing discarded', async () => {
        const c = { flavour: 'mysql8', strategy: 'dual', start: 'fresh', reusePolicy: true, script: { pendingLogin: { outcome: 'refused', times: 3 } } };
        const e = await runRotation(c);
        assert.equal(e.state, 'stuck');
        assert.equal(e.fails.at(-1)?.code, 'SK_ERR_ROTATION_UNDO_REFUSED');
        assert.equal(e.fails.at(-1)?.undoRefused, true);
        assert.ok(e.liveWorks, 'the live password was dropped');
        assert.equal(e.db.describe(LIVE_USER), `primary=${PENDING} retained=${LIVE}`);
    });
    test('MySQL 8 dual: verify fails, undo sets the primary back to live and then discards → failed with live proven', async () => {
        const c = { flavour: 'mysql8', strategy: 'dual', start: 'fresh', reusePolicy: false, script: { pendingLogin: { outcome: 'refused', times: 3 } } };
        const e = await runRotation(c);
        assert.equal(e.state, 'failed');
        assert.equal(e.fails.at(-1)?.liveVerified, true);
        assert.equal(e.db.describe(LIVE_USER), `primary=${LIVE} retained=-`);
    });
    test('positive control: the old undo (DISCARD OLD PASSWORD right after RETAIN) deletes the live password in the fake', () => {
        const db = new FakeDatabase('primary+retained', { [LIVE_USER]: [LIVE] });
        db.addPassword(LIVE_USER, PENDING);
        db.discardRetained(LIVE_USER);
        assert.equal(db.logsIn(LIVE_USER, LIVE), false);
    });
    test('a strategy the flavour refuses (MariaDB dual, PostgreSQL dual…) changes nothing and ends failed with SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', async () => {
        let checked = 0;
        for (const flavour of FLAVOUR_NAMES) {
            for (const strategy of STRATEGIES.filter((s) => !FLAVOURS[flavour].strategies.includes(s))) {
                const e = await runRotation({ flavour, strategy, start: 'fresh', reusePolicy: false, script: {} });
                assert.equal(e.state, 'failed', `${flavour}/${strategy}`);
                assert.equal(e.fails.at(-1)?.code, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
                assert.equal(e.db.describe(LIVE_USER), FLAVOURS[flavour].slots === 'set' ? `set{${LIVE}}` : `primary=${LIVE} retained=-`);
                checked += 1;
            }
        }
        assert.ok(checked >= 4, `only ${checked} refused pairs`);
    });
    test('decide() never promotes an unproven apply and never touches the database after the pending credential was proven', () => {
        for (const { strategy } of allowedPairs()) {
            for (const slots of ['single', 'set', 'primary+retained']) {
                const proven = decideRotate({ strategy, maybeApplied: false, init: 'ok', slots, apply: 'ok', verify: 'works', undo: [] });
                assert.deepEqual(proven, { do: 'promote' });
                for (const verify of ['refused', 'unknown']) {
                    const next = decideRotate({ strategy, maybeApplied: false, init: 'ok', slots, apply: 'ok', verify, undo: [] });
                    assert.notEqual(next.do, 'promote', `${slots}/${strategy}: promoted after verify ${verify}`);
                }
            }
        }
    });
});
function retireDatabase(flavour, start) {
    const slots = FLAVOURS[flavour].slots;
    const passwords = start === 'already-retired' ? [LIVE] : start === 'live-broken' ? ['changed-by-hand', OLD] : [LIVE, OLD];
    return new FakeDatabase(slots, { [LIVE_USER]: passwords });
}
function retireJob(flavour, attempt) {
    return {
        kind: 'retire', id: 'ret-1', project: 'p', secret: 's', engine: FLAVOURS[flavour].engine, strategy: 'dual', flavour,
        fence: attempt, leaseSeconds: 3600, attempt, admin: { host: 'db', port: '1', username: 'admin', password: 'admin-pw' },
        username: LIVE_USER, livePassword: LIVE, retirePassword: OLD, target: { host: 'db', port: '1', username: LIVE_USER, password: LIVE },
    };
}
describe('agent decisions for retire jobs (scripted fake engines)', () => {
    test('removing the old password never leaves fewer working passwords than the live one, and never removes the only one', async () => {
        let cases = 0;
        const broken = [];
        for (const flavour of FLAVOUR_NAMES.filter((f) => FLAVOURS[f].strategies.includes('dual'))) {
            for (const start of ['normal', 'already-retired', 'live-broken']) {
                for (const init of [undefined, 'fail']) {
                    for (const liveLogin of [undefined, { outcome: 'unknown', times: 1 }, { outcome: 'unknown', times: 99 }]) {
                        for (const retire of [undefined, 'lost-before', 'lost-after']) {
                            cases += 1;
                            const script = { ...(init ? { init } : {}), ...(liveLogin ? { liveLogin } : {}), ...(retire ? { retire } : {}) };
                            const db = retireDatabase(flavour, start);
                            const vault = new FakeVault('retire');
                            while (vault.state === 'pending' || vault.state === 'claimed') {
                                const attempt = vault.claim();
                                await runRetireJob(retireJob(flavour, attempt), fakeProvider(flavour, db, attempt === 1 ? script : {}, { live: LIVE }), vault, log, { sleep: instant });
                            }
                            const live = db.logsIn(LIVE_USER, LIVE);
                            const old = db.logsIn(LIVE_USER, OLD);
                            const what = `${flavour} start=${start} ${JSON.stringify(script)} → ${vault.state} (${db.describe(LIVE_USER)})`;
                            if (start !== 'live-broken' && !live)
                                broken.push(`${what}: live no longer logs in`);
                            if (start === 'live-broken' && !old)
                                broken.push(`${what}: the only working password was removed`);
                            if (vault.state === 'retired' && old)
                                broken.push(`${what}: retired but the old password still logs in`);
                            if (start === 'live-broken' && vault.state !== 'stuck')
                                broken.push(`${what}: a broken live credential did not end stuck`);
                        }
                    }
                }
            }
        }
        console.log(`agent retire decisions: ${cases} cases, ${broken.length} leave fewer working passwords than they should`);
        assert.deepEqual(broken.slice(0, 10), [], `${broken.length} retire cases broke the promise`);
    });
});
//# sourceMappingURL=decisions.test.js.map
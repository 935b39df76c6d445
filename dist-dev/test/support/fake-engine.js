/**
 * TEST-ONLY scripted fake database engines, one per password model of protocol/engines.ts, for
 * the agent's decision table. They model exactly how each engine keeps passwords — PostgreSQL,
 * MariaDB and MongoDB one per user; Redis a set; MySQL 8 a primary and a retained one, where
 * setting the primary without RETAIN leaves the retained one unchanged and a password-reuse
 * policy may refuse a password the account had — so every branch of the agent, including MySQL 8
 * `dual`, which no server on this machine can run, is exercised. They are not databases: the
 * provider conformance suite proves the real providers against real servers.
 *
 * A script injects faults into one attempt (a claim): a refused or lost statement, logins that
 * are refused or cannot be answered for a while, an admin that cannot connect.
 *
 * @example
 *   const db = new FakeDatabase('primary+retained', { app: ['live-pw'] });
 *   const provider = fakeProvider('mysql8', db, { apply: 'lost-after' });
 *   await provider.initialize({ admin, target });
 *   db.logsIn('app', 'live-pw'); // true
 */
import { SikkerKeyError } from '../../protocol/errors.js';
import { FLAVOURS, operationsOf } from '../../protocol/engines.js';
/** The passwords of each user, kept the way one engine keeps them. */
export class FakeDatabase {
    slots;
    opts;
    accounts = new Map();
    constructor(slots, users, opts = {}) {
        this.slots = slots;
        this.opts = opts;
        for (const [name, passwords] of Object.entries(users)) {
            const [first, second] = passwords;
            this.accounts.set(name, {
                primary: first, retained: slots === 'primary+retained' ? second : undefined,
                set: new Set(slots === 'set' ? passwords : []), history: new Set(passwords),
            });
        }
    }
    account(user) {
        const a = this.accounts.get(user);
        if (a === undefined)
            throw new SikkerKeyError('SK_ERR_PROVIDER_USER_NOT_FOUND', `fake: no user ${user}`);
        return a;
    }
    logsIn(user, password) {
        const a = this.accounts.get(user);
        if (a === undefined)
            return false;
        if (this.slots === 'set')
            return a.set.has(password);
        return a.primary === password || (this.slots === 'primary+retained' && a.retained === password);
    }
    /** The passwords that log in as `user` now, for failure messages. */
    describe(user) {
        const a = this.accounts.get(user);
        if (a === undefined)
            return 'no such user';
        return this.slots === 'set' ? `set{${[...a.set].join(',')}}` : `primary=${a.primary ?? '-'} retained=${a.retained ?? '-'}`;
    }
    setPassword(user, password) {
        const a = this.account(user);
        // MySQL's password_history: a password the account had (the current one too) is refused
        if (this.opts.reusePolicy === true && a.history.has(password)) {
            throw new SikkerKeyError('SK_ERR_PROVIDER_PASSWORD_REUSE', 'fake: the password-reuse policy refused a password the account had');
        }
        a.history.add(password);
        if (this.slots === 'set')
            a.set = new Set([password]);
        else
            a.primary = password; // primary+retained: the retained one stays as it is
    }
    addPassword(user, password) {
        const a = this.account(user);
        if (this.slots === 'set') {
            a.set.add(password);
        }
        else if (this.slots === 'primary+retained') {
            if (a.primary === password || a.retained === password)
                return; // the provider's own idempotence check
            a.retained = a.primary;
            a.primary = password;
        }
        else {
            throw new SikkerKeyError('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', 'fake: one password per user');
        }
        a.history.add(password);
    }
    removePassword(user, password) {
        this.account(user).set.delete(password);
    }
    discardRetained(user) {
        this.account(user).retained = undefined;
    }
}
const lost = () => new SikkerKeyError('SK_ERR_PROVIDER_CONNECT', 'fake: the connection dropped before the answer');
/**
 * A CredentialProvider over a FakeDatabase, with exactly the operations its flavour's row
 * declares. `pendingPassword` tells the fake which logins the script's `pendingLogin` applies to.
 */
export function fakeProvider(flavour, db, script, passwords = {}) {
    const row = FLAVOURS[flavour];
    const ops = operationsOf(flavour);
    let pendingFaults = script.pendingLogin?.times ?? 0;
    let liveFaults = script.liveLogin?.times ?? 0;
    let undoIndex = 0;
    let applied = false;
    let initialized = false;
    /** A change that may be lost before or after taking effect. */
    const change = (fault, run) => {
        if (fault === 'lost-before')
            throw lost();
        run();
        if (fault === 'lost-after')
            throw lost();
    };
    /** The apply runs once per attempt under the script; every later password change is an undo step. */
    const step = (run) => {
        if (!applied) {
            applied = true;
            if (script.apply === 'refused')
                throw new SikkerKeyError('SK_ERR_PROVIDER_PRIVILEGE', 'fake: the admin lacks the privilege');
            change(script.apply === 'lost-before' || script.apply === 'lost-after' ? script.apply : undefined, run);
            return;
        }
        change(script.undo?.[undoIndex++], run);
    };
    const requireInit = () => {
        if (!initialized)
            throw new SikkerKeyError('SK_ERR_INTERNAL', 'fake: used before initialize');
    };
    const provider = {
        engine: row.engine,
        operations: ops,
        async initialize() {
            if (script.init === 'fail')
                throw new SikkerKeyError('SK_ERR_PROVIDER_CONNECT', 'fake: the admin cannot connect');
            initialized = true;
            return { serverVersion: flavour === 'mysql8' ? 'MySQL 8.0.36' : `${row.label} 1.0`, flavour };
        },
        async setPassword(req) {
            requireInit();
            step(() => db.setPassword(req.username, req.password));
        },
        async verify(req) {
            if (req.password === passwords.pending && pendingFaults > 0) {
                pendingFaults--;
                if (script.pendingLogin?.outcome === 'refused')
                    throw new SikkerKeyError('SK_ERR_PROVIDER_AUTH_FAILED', 'fake: refused');
                throw lost();
            }
            if (req.password === passwords.live && liveFaults > 0) {
                liveFaults--;
                throw lost();
            }
            if (!db.logsIn(req.username, req.password))
                throw new SikkerKeyError('SK_ERR_PROVIDER_AUTH_FAILED', 'fake: refused');
            return { serverVersion: '1.0' };
        },
        async preflight() {
            requireInit();
            return { ok: true, problems: [] };
        },
        async close() {
            initialized = false;
        },
        secretValues: () => [],
    };
    if (ops.includes('addPassword')) {
        provider.addPassword = async (req) => {
            requireInit();
            step(() => db.addPassword(req.username, req.password));
        };
    }
    if (ops.includes('removePassword')) {
        provider.removePassword = async (req) => {
            requireInit();
            if (applied)
                step(() => db.removePassword(req.username, req.password));
            else
                change(script.retire, () => db.removePassword(req.username, req.password));
        };
    }
    if (ops.includes('discardRetained')) {
        provider.discardRetained = async (req) => {
            requireInit();
            if (applied)
                step(() => db.discardRetained(req.username));
            else
                change(script.retire, () => db.discardRetained(req.username));
        };
    }
    return provider;
}
//# sourceMappingURL=fake-engine.js.map
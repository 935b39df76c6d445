/**
 * The adversarial run's bookkeeping: every hostile request's answer goes through `Tally.check`,
 * which counts it per category and status and holds it to the run's rules — no status ≥ 500,
 * every non-2xx answer carrying a code registered in protocol/errors.ts with that code's status,
 * and, where the category says the vault must refuse, no 2xx. Failures keep a few examples so a
 * report can say what broke.
 *
 * @example
 *   const tally = new Tally();
 *   tally.check('mutations', { method: 'GET', target: '/v1/projects', status: 401, body }, { mustRefuse: 'mutation' });
 *   tally.summary().mutationsAccepted; // 0
 */
import { ERROR_CODES, isErrorCode } from '../../protocol/errors.js';
export const CATEGORIES = ['signature-fuzz', 'route-inputs', 'replays', 'mutations', 'bodies'];
const MAX_EXAMPLES = 25;
function codeOf(body) {
    const err = body?.error;
    return typeof err?.code === 'string' ? err.code : undefined;
}
export class Tally {
    counts = Object.fromEntries(CATEGORIES.map((c) => [c, { requests: 0, statuses: {}, codes: {}, failures: 0 }]));
    totals = {
        fivexx: 0, crashes: 0, replaysAccepted: 0, mutationsAccepted: 0, unregistered: 0, bodiesAccepted: 0,
        parserEscapes: 0, prototypePolluted: 0, hangs: 0, verifyBusy: 0, setupFailures: 0,
    };
    examples = [];
    fail(category, kind, detail) {
        this.totals[kind] += 1;
        if (category !== 'process')
            this.counts[category].failures += 1;
        if (this.examples.length < MAX_EXAMPLES)
            this.examples.push({ category, kind, detail: detail.length > 300 ? `${detail.slice(0, 300)}…` : detail });
    }
    /** Counts one hostile request's answer and holds it to the rules; true when it broke none. */
    check(category, a, opts = {}) {
        const c = this.counts[category];
        c.requests += 1;
        const statusKey = a.closed ? 'closed' : a.serverTimeout ? '408-timeout' : String(a.status);
        c.statuses[statusKey] = (c.statuses[statusKey] ?? 0) + 1;
        if (a.closed || a.serverTimeout)
            return true;
        const what = `${a.method} ${a.target.length > 120 ? `${a.target.slice(0, 120)}…` : a.target} → ${a.status}`;
        const code = codeOf(a.body);
        if (code !== undefined)
            c.codes[code] = (c.codes[code] ?? 0) + 1;
        let ok = true;
        if (a.status >= 500) {
            if (code === 'SK_ERR_VERIFY_BUSY')
                this.totals.verifyBusy += 1;
            this.fail(category, 'fivexx', `${what} ${JSON.stringify(a.body)}`);
            ok = false;
        }
        if (a.status < 200 || a.status >= 300) {
            // A HEAD answer has no body to carry a code; its status is still held to the rules above.
            if (a.method !== 'HEAD' && (!isErrorCode(code) || ERROR_CODES[code].status !== a.status)) {
                this.fail(category, 'unregistered', `${what} ${JSON.stringify(a.body)}`);
                ok = false;
            }
        }
        else if (opts.mustRefuse !== undefined) {
            const kind = opts.mustRefuse === 'replay' ? 'replaysAccepted' : opts.mustRefuse === 'mutation' ? 'mutationsAccepted' : 'bodiesAccepted';
            this.fail(category, kind, what);
            ok = false;
        }
        return ok;
    }
    summary() {
        const requests = CATEGORIES.reduce((n, c) => n + this.counts[c].requests, 0);
        return { requests, ...this.totals, categories: this.counts, examples: [...this.examples] };
    }
}
/** True when the run broke no rule at all (what `--json`'s `ok` and the exit code say). */
export function clean(s) {
    return s.fivexx + s.crashes + s.replaysAccepted + s.mutationsAccepted + s.unregistered + s.bodiesAccepted
        + s.parserEscapes + s.prototypePolluted + s.hangs + s.setupFailures === 0;
}
/** The run's last line. */
export function resultLine(s) {
    return `adversarial: ${s.requests} requests, ${s.fivexx} 5xx, ${s.crashes} crashes, ${s.replaysAccepted} replays accepted, ${s.mutationsAccepted} mutations accepted`;
}
//# sourceMappingURL=tally.js.map
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

export const CATEGORIES = ['signature-fuzz', 'route-inputs', 'replays', 'mutations', 'bodies'] as const;
export type Category = typeof CATEGORIES[number];

/** What a 2xx means in a category: nothing (`undefined`: a valid request may succeed), or a failure of this kind. */
export type Refusal = 'replay' | 'mutation' | 'body';

export interface Answer {
  method: string;
  target: string;
  status: number;
  /** The parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  /** Set when the server closed the connection (or timed it out) instead of answering. */
  closed?: boolean;
  /** A bare HTTP 408 written by Node's own request/headers timeout (no body; not our error shape). */
  serverTimeout?: boolean;
}

export interface CategoryCounts {
  requests: number;
  /** How many answers had each status ("closed" when the server closed the connection). */
  statuses: Record<string, number>;
  /** How many refusals carried each error code. */
  codes: Record<string, number>;
  failures: number;
}

export interface Failure { category: Category | 'process'; kind: string; detail: string }

export interface TallySummary {
  requests: number;
  fivexx: number;
  crashes: number;
  replaysAccepted: number;
  mutationsAccepted: number;
  /** Non-2xx answers without a registered code (or with a status other than the code's). */
  unregistered: number;
  /** 2xx answers to oversized, deeply nested or slow bodies. */
  bodiesAccepted: number;
  /** Verifier or parser calls (outside HTTP) that threw something other than a registered SikkerKeyError. */
  parserEscapes: number;
  /** Object.prototype gained a property during the run. */
  prototypePolluted: number;
  /** Sockets the server neither answered nor closed within the client's deadline. */
  hangs: number;
  /** 503 SK_ERR_VERIFY_BUSY answers (overload; counted in fivexx too, listed here to tell them apart). */
  verifyBusy: number;
  /** Valid requests the run needed accepted (a replay's original) that were refused: the run proved nothing for them. */
  setupFailures: number;
  categories: Record<Category, CategoryCounts>;
  examples: Failure[];
}

const MAX_EXAMPLES = 25;

function codeOf(body: unknown): string | undefined {
  const err = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof err?.code === 'string' ? err.code : undefined;
}

export class Tally {
  private readonly counts = Object.fromEntries(CATEGORIES.map((c) => [c, { requests: 0, statuses: {}, codes: {}, failures: 0 }])) as Record<Category, CategoryCounts>;
  private readonly totals = {
    fivexx: 0, crashes: 0, replaysAccepted: 0, mutationsAccepted: 0, unregistered: 0, bodiesAccepted: 0,
    parserEscapes: 0, prototypePolluted: 0, hangs: 0, verifyBusy: 0, setupFailures: 0,
  };
  private readonly examples: Failure[] = [];

  fail(category: Category | 'process', kind: keyof Tally['totals'], detail: string): void {
    this.totals[kind] += 1;
    if (category !== 'process') this.counts[category].failures += 1;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ category, kind, detail: detail.length > 300 ? `${detail.slice(0, 300)}…` : detail });
  }

  /** Counts one hostile request's answer and holds it to the rules; true when it broke none. */
  check(category: Category, a: Answer, opts: { mustRefuse?: Refusal } = {}): boolean {
    const c = this.counts[category];
    c.requests += 1;
    const statusKey = a.closed ? 'closed' : a.serverTimeout ? '408-timeout' : String(a.status);
    c.statuses[statusKey] = (c.statuses[statusKey] ?? 0) + 1;
    if (a.closed || a.serverTimeout) return true;
    const what = `${a.method} ${a.target.length > 120 ? `${a.target.slice(0, 120)}…` : a.target} → ${a.status}`;
    const code = codeOf(a.body);
    if (code !== undefined) c.codes[code] = (c.codes[code] ?? 0) + 1;
    let ok = true;
    if (a.status >= 500) {
      if (code === 'SK_ERR_VERIFY_BUSY') this.totals.verifyBusy += 1;
      this.fail(category, 'fivexx', `${what} ${JSON.stringify(a.body)}`);
      ok = false;
    }
    // A redirect (the vault's `/` and `/ui` → `/ui/`) is neither a refusal nor an acceptance of
    // anything; under `mustRefuse` it still counts as not refused.
    const redirect = a.status >= 300 && a.status < 400;
    if ((a.status < 200 || a.status >= 300) && !redirect) {
      // A HEAD answer has no body to carry a code; its status is still held to the rules above.
      if (a.method !== 'HEAD' && (!isErrorCode(code) || ERROR_CODES[code].status !== a.status)) {
        this.fail(category, 'unregistered', `${what} ${JSON.stringify(a.body)}`);
        ok = false;
      }
    } else if (opts.mustRefuse !== undefined) {
      const kind = opts.mustRefuse === 'replay' ? 'replaysAccepted' : opts.mustRefuse === 'mutation' ? 'mutationsAccepted' : 'bodiesAccepted';
      this.fail(category, kind, what);
      ok = false;
    }
    return ok;
  }

  summary(): TallySummary {
    const requests = CATEGORIES.reduce((n, c) => n + this.counts[c].requests, 0);
    return { requests, ...this.totals, categories: this.counts, examples: [...this.examples] };
  }
}

/** True when the run broke no rule at all (what `--json`'s `ok` and the exit code say). */
export function clean(s: TallySummary): boolean {
  return s.fivexx + s.crashes + s.replaysAccepted + s.mutationsAccepted + s.unregistered + s.bodiesAccepted
    + s.parserEscapes + s.prototypePolluted + s.hangs + s.setupFailures === 0;
}

/** The run's last line. */
export function resultLine(s: TallySummary): string {
  return `adversarial: ${s.requests} requests, ${s.fivexx} 5xx, ${s.crashes} crashes, ${s.replaysAccepted} replays accepted, ${s.mutationsAccepted} mutations accepted`;
}

/**
 * A per-process wake-up hub for long-polls (agent rotation polls, secret watches).
 *
 * A held long-poll costs no store work while it waits: it registers under the keys it waits for
 * (a machine id and its labels, a secret's name) and sleeps until an in-process event names one
 * of those keys (`wake`), the event cannot be narrowed (`wakeAll`), its own deadline passes, or
 * its request ends. Woken, the long-poll re-checks the store once through its ordinary path.
 *
 * One safety net per hub, never one per waiter: while anybody waits, a single timer runs `sweep`
 * every `intervalMs` (or earlier, at a time `wakeAt` announced, e.g. a retry's `not_before`). The
 * sweep is one fixed set of queries whatever the number of waiters; it returns the keys that have
 * something for them now and when to look again. It catches what emits no event in this process:
 * work that becomes due by time passing, leases that lapse, changes made through another process
 * that no relay re-emitted here.
 *
 * A waiter is registered before its first check and stays registered across checks, so an event
 * that arrives while the check is running is not lost: the next `wait` returns at once.
 */

const MIN_SWEEP_GAP_MS = 100;

export interface Waiter {
  /** Forgets any wake-up seen so far; call just before checking the store. */
  arm(): void;
  /**
   * Resolves when this waiter was woken since `arm` (at once if it already was), after `ms`, or
   * when `signal` aborts.
   */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
  /** Unregisters; call when the long-poll ends, however it ends. */
  close(): void;
}

export interface SweepResult {
  /** Keys with something for their waiters now. */
  wake: Iterable<string>;
  /** When (ctx clock, ms) something may become due with no event; the next sweep runs then at the latest. */
  nextAt?: number | null;
}

export interface WakeHubOptions<D> {
  /** The safety net's period (ms). */
  intervalMs: number;
  now: () => number;
  /** One round of store checks for every key somebody waits on (with each waiter's data). */
  sweep: (waiting: ReadonlyMap<string, readonly D[]>) => Promise<SweepResult>;
  /** Subscribes the hub to its event sources while it has waiters; returns the unsubscribe. */
  subscribe: () => () => void;
  onSweepError?: (err: unknown) => void;
}

interface Entry<D> {
  keys: readonly string[];
  data: D;
  woken: boolean;
  resolve: (() => void) | null;
}

export class WakeHub<D = undefined> {
  private readonly byKey = new Map<string, Set<Entry<D>>>();
  private readonly entries = new Set<Entry<D>>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private sweeping = false;
  /** Sweeps run so far (for tests and diagnostics). */
  sweeps = 0;

  constructor(private readonly opts: WakeHubOptions<D>) {}

  /** How many long-polls are waiting. */
  get size(): number {
    return this.entries.size;
  }

  /** The data of every registered long-poll (diagnostics and tests). */
  held(): D[] {
    return [...this.entries].map((e) => e.data);
  }

  register(keys: readonly string[], data: D): Waiter {
    const entry: Entry<D> = { keys, data, woken: false, resolve: null };
    this.entries.add(entry);
    for (const key of keys) {
      let set = this.byKey.get(key);
      if (!set) this.byKey.set(key, (set = new Set()));
      set.add(entry);
    }
    if (this.entries.size === 1) {
      this.unsubscribe = this.opts.subscribe();
      this.schedule(this.opts.now() + this.opts.intervalMs);
    }
    let closed = false;
    return {
      arm: () => { entry.woken = false; },
      wait: (ms, signal) => {
        if (entry.woken || closed || signal?.aborted) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(deadline);
            signal?.removeEventListener('abort', done);
            entry.resolve = null;
            resolve();
          };
          const deadline = setTimeout(done, Math.max(0, ms));
          signal?.addEventListener('abort', done);
          entry.resolve = done;
        });
      },
      close: () => {
        if (closed) return;
        closed = true;
        entry.resolve?.();
        this.entries.delete(entry);
        for (const key of keys) {
          const set = this.byKey.get(key);
          set?.delete(entry);
          if (set?.size === 0) this.byKey.delete(key);
        }
        if (this.entries.size === 0) this.idle();
      },
    };
  }

  /** Wakes the waiters registered under `key` (none: nothing happens). */
  wake(key: string): void {
    const set = this.byKey.get(key);
    if (set) for (const entry of set) this.fire(entry);
  }

  /** Wakes every waiter: for an event that cannot say whom it concerns. */
  wakeAll(): void {
    for (const entry of this.entries) this.fire(entry);
  }

  /** Something becomes due at `at` (ctx clock) with no event: sweep then rather than later. */
  wakeAt(at: number): void {
    if (this.entries.size > 0) this.schedule(at);
  }

  private fire(entry: Entry<D>): void {
    entry.woken = true;
    entry.resolve?.();
  }

  private idle(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private schedule(at: number): void {
    const now = this.opts.now();
    const when = Math.min(Math.max(at, now), now + this.opts.intervalMs);
    if (this.timer && when >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = when;
    // A few ms late rather than early: a row due at `at` is claimable once now >= at.
    this.timer = setTimeout(() => void this.runSweep(), when - now + (when > now ? 5 : 0));
    this.timer.unref();
  }

  private async runSweep(): Promise<void> {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.entries.size === 0) return;
    if (this.sweeping) {
      this.schedule(this.opts.now() + this.opts.intervalMs);
      return;
    }
    this.sweeping = true;
    this.sweeps += 1;
    let nextAt: number | null | undefined;
    try {
      const waiting = new Map<string, D[]>();
      for (const [key, set] of this.byKey) waiting.set(key, [...set].map((e) => e.data));
      const result = await this.opts.sweep(waiting);
      for (const key of result.wake) this.wake(key);
      nextAt = result.nextAt;
    } catch (err) {
      this.opts.onSweepError?.(err);
    } finally {
      this.sweeping = false;
    }
    // Never sooner than MIN_SWEEP_GAP_MS after a sweep, whatever `nextAt` says: no hot loop.
    const now = this.opts.now();
    if (this.entries.size > 0) this.schedule(Math.max(nextAt ?? now + this.opts.intervalMs, now + MIN_SWEEP_GAP_MS));
  }
}

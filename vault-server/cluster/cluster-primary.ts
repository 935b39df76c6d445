/**
 * `sikkerkey-vault serve --workers N` (N > 1): the primary process. It has already read the
 * configuration and the root key (once); here it forks N workers with node:cluster, hands each
 * its start message over the IPC channel (the root key travels there, never in argv or the
 * environment), and then only supervises:
 *
 * - the listening socket is shared (cluster's round-robin: the primary accepts, workers serve);
 *   "vault listening" with the URL is logged once, by the primary, when every worker listens;
 * - a worker that dies is restarted after a backoff (0.5 s doubling to 30 s, back to 0.5 s once
 *   a worker ran a minute), and the exit is logged;
 * - SIGTERM/SIGINT are forwarded to every worker (each drains as a single process would) and the
 *   primary exits when they all have, 0 when all exited 0; a second signal SIGKILLs them;
 *   SIGHUP (TLS reload, root key files re-read) is forwarded; the primary re-reads the root key
 *   files too and, when a key in them opens the store, hands those keys to workers it restarts
 *   from then on (each worker checks and reloads its own: ops/root-key-reload.ts);
 * - wake-ups (SQLite) and the per-address failure budget cross between workers through here
 *   (wakeups.ts, shared-budget.ts).
 *
 * Workers exit when the primary's IPC channel closes (cluster-worker.ts): a SIGKILLed primary
 * leaves no worker holding the store or a connection.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { VaultConfig } from '../config.js';
import { BudgetAuthority, isAuthFailureMessage } from './shared-budget.js';
import { isWakeupMessage, relayWakeup } from './wakeups.js';

/** What `serve` flags (outside VaultConfig) a worker needs. */
export interface WorkerServeOptions {
  canaryDisablesMachine: boolean;
  geoipDb?: string;
  acceptBrokenChain: boolean;
}

/** Primary → worker, once, when the worker says it is `ready` for it. */
export interface WorkerStartMessage {
  sk: 'start';
  /** 1…N; a restarted worker keeps its number. Worker 1 runs the scheduler and the machine sweeper. */
  index: number;
  config: VaultConfig;
  /** base64, one or two (a rotation in progress); only ever on the IPC channel. */
  rootKeys: string[];
  serve: WorkerServeOptions;
}

/** Worker → primary. */
export type WorkerReport =
  | { sk: 'listening'; url: string; authorities: string[]; tls: boolean; clientCertificates: boolean; maxConnections: number }
  | { sk: 'failed'; code: string; message: string };

export interface PrimaryOptions {
  workers: number;
  config: VaultConfig;
  rootKeys: readonly Buffer[];
  log: Logger;
  /** Whether the keys in the root key files open the store (SIGHUP); throws with an SK_ERR_ code when not. */
  checkRootKeys?: () => Promise<readonly Buffer[]>;
  serve: WorkerServeOptions;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A worker that ran this long resets its slot's backoff. */
const HEALTHY_AFTER_MS = 60_000;

interface Slot { index: number; worker: Worker | undefined; startedAt: number; backoffMs: number; listening: boolean }

function isReport(m: unknown): m is WorkerReport {
  const sk = typeof m === 'object' && m !== null ? (m as { sk?: unknown }).sk : undefined;
  return sk === 'listening' || sk === 'failed';
}

export async function runPrimary(opts: PrimaryOptions): Promise<void> {
  const { log, config } = opts;
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./cluster-worker.js', import.meta.url)), args: [] });
  const budget = new BudgetAuthority(Date.now);
  let rootKeys = opts.rootKeys;
  const slots: Slot[] = Array.from({ length: opts.workers }, (_, i) => ({ index: i + 1, worker: undefined, startedAt: 0, backoffMs: BACKOFF_MIN_MS, listening: false }));
  const live = (): Worker[] => slots.flatMap((s) => (s.worker ? [s.worker] : []));
  let starting = true;
  let stopping = false;
  let startupFailed: ((err: Error) => void) | undefined;
  let announce: ((r: Extract<WorkerReport, { sk: 'listening' }>) => void) | undefined;

  const fork = (slot: Slot): void => {
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.listening = false;
    worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as { sk?: unknown }).sk === 'ready') {
        const start: WorkerStartMessage = { sk: 'start', index: slot.index, config, rootKeys: rootKeys.map((k) => k.toString('base64')), serve: opts.serve };
        worker.send(start);
      } else if (isWakeupMessage(m)) {
        relayWakeup(m, worker, live());
      } else if (isAuthFailureMessage(m)) {
        const spent = budget.failure(m.key);
        if (spent) for (const w of live()) if (w.isConnected()) w.send(spent);
      } else if (isReport(m)) {
        if (m.sk === 'failed') {
          log.error({ worker: slot.index, workerPid: worker.process.pid, code: m.code, err: m.message }, 'worker failed to start');
          startupFailed?.(new SikkerKeyError(m.code as ErrorCode, m.message));
        } else {
          slot.listening = true;
          if (starting) announce?.(m);
          else log.info({ worker: slot.index, pid: worker.process.pid }, 'worker restarted and listening');
        }
      }
    });
    worker.on('exit', (code, signal) => {
      if (slot.worker === worker) slot.worker = undefined;
      if (stopping) return;
      if (starting) {
        startupFailed?.(new SikkerKeyError('SK_ERR_CONFIG', `worker ${slot.index} exited during start-up (${signal ?? `code ${code}`})`));
        return;
      }
      const ran = Date.now() - slot.startedAt;
      if (ran >= HEALTHY_AFTER_MS) slot.backoffMs = BACKOFF_MIN_MS;
      const wait = slot.backoffMs;
      slot.backoffMs = Math.min(BACKOFF_MAX_MS, slot.backoffMs * 2);
      log.error({ worker: slot.index, workerPid: worker.process.pid, code, signal, ranMs: ran, restartInMs: wait }, 'worker exited unexpectedly; restarting it');
      setTimeout(() => { if (!stopping) fork(slot); }, wait);
    });
  };

  const killAll = async (signal: NodeJS.Signals): Promise<void> => {
    const waits = live().map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) resolve();
      else { w.once('exit', () => resolve()); w.process.kill(signal); }
    }));
    await Promise.all(waits);
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const listening = new Map<number, Extract<WorkerReport, { sk: 'listening' }>>();
      startupFailed = reject;
      announce = (r) => {
        for (const s of slots) if (s.listening && !listening.has(s.index)) listening.set(s.index, r);
        if (listening.size === slots.length) {
          const { url, authorities, tls, clientCertificates, maxConnections } = r;
          log.info({ url, authorities, tls, clientCertificates, maxConnections, workers: slots.length, pids: live().map((w) => w.process.pid) }, 'vault listening');
          resolve();
        }
      };
      for (const slot of slots) fork(slot);
    });
  } catch (err) {
    stopping = true;
    await killAll('SIGKILL');
    throw isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_CONFIG', String(err));
  } finally {
    starting = false;
    startupFailed = undefined;
  }

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: killing the workers and exiting now');
      void killAll('SIGKILL').then(() => process.exit(1));
      return;
    }
    stopping = true;
    const started = Date.now();
    log.info({ signal, workers: live().length }, 'shutting down: the workers drain');
    const codes: Array<number | null> = [];
    for (const w of live()) w.once('exit', (code) => codes.push(code));
    // Each worker bounds its own drain (--shutdown-timeout, then 5 s for the store); past that
    // and a margin, what is left is killed.
    const limit = setTimeout(() => {
      log.warn('workers did not stop in time; killing them');
      for (const w of live()) w.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + 10_000);
    void killAll(signal).then(() => {
      clearTimeout(limit);
      const clean = codes.every((c) => c === 0);
      log.info({ ms: Date.now() - started, clean }, 'vault stopped');
      process.exit(clean ? 0 : 1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info({ workers: live().length }, 'SIGHUP: passed on to the workers');
    for (const w of live()) w.process.kill('SIGHUP');
    const check = opts.checkRootKeys;
    if (check) {
      check().then((keys) => { rootKeys = keys; }, (err: unknown) => {
        log.error({ code: isSikkerKeyError(err) ? err.code : 'SK_ERR_STORE', err: err instanceof Error ? err.message : String(err) },
          'SIGHUP: the root key files do not open the store; restarted workers keep getting the keys held');
      });
    }
  });
}

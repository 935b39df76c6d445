/**
 * A worker of `sikkerkey-vault serve --workers N` (the script node:cluster forks; see
 * cluster-primary.ts). It takes no arguments: it says `ready` and waits for the primary's start
 * message on the IPC channel (configuration and root key), opens the store, builds the app and listens on the
 * shared socket, reporting `listening` or `failed` back. Worker 1 also runs the rotation
 * scheduler and the machine sweeper (both also hold store leases, so an overlap while worker 1
 * restarts is harmless).
 *
 * It exits as soon as the IPC channel closes: the primary is gone (even SIGKILLed) and nothing
 * would supervise it any more, so it must not keep the store or any connection.
 */
import cluster from 'node:cluster';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { createLogger } from '../logging.js';
import { openServedStore } from '../server-commands.js';
import { onSignals, startServer } from '../server-commands.js';
import type { WorkerReport, WorkerStartMessage } from './cluster-primary.js';
import { MirroredBudget } from './shared-budget.js';

function report(m: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) { resolve(); return; }
    process.send(m, undefined, {}, () => resolve());
  });
}

function isStart(m: unknown): m is WorkerStartMessage {
  return typeof m === 'object' && m !== null && (m as { sk?: unknown }).sk === 'start';
}

async function run(start: WorkerStartMessage): Promise<void> {
  const { config, index } = start;
  const log = createLogger({ level: config.log.level }).child({ worker: index });
  // When the primary goes away the channel closes; cluster then ends this process at once
  // (Node's own handler): say so first.
  cluster.worker?.once('disconnect', () => {
    if (!cluster.worker?.exitedAfterDisconnect) log.warn('the primary is gone; this worker exits');
  });
  const rootKey = start.rootKeys.map((k) => Buffer.from(k, 'base64'));
  const budget = new MirroredBudget(Date.now, (m) => { if (process.connected) process.send?.(m); });
  process.on('message', (m: unknown) => { budget.onMessage(m); });
  const store = await openServedStore(config);
  try {
    const running = await startServer({
      store, rootKey, settings: config, log,
      canaryDisablesMachine: start.serve.canaryDisablesMachine, geoipDb: start.serve.geoipDb, acceptBrokenChain: start.serve.acceptBrokenChain,
      background: index === 1, announce: false, failureBudget: budget, ipc: process,
    });
    // The primary forwards the signals; a second one (Ctrl-C reaches the whole process group,
    // then the primary's copy) must not cut the drain short: the primary escalates with SIGKILL.
    onSignals(running, { shutdownTimeoutMs: config.shutdownTimeoutMs, tls: config.tls, rootKeyFiles: config.rootKeyFiles, escalate: false });
    await report({ sk: 'listening', url: running.url, authorities: [...running.authorities], tls: config.tls !== undefined, clientCertificates: config.tls?.clientCa !== undefined, maxConnections: running.maxConnections });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

if (!cluster.isWorker) {
  process.stderr.write('this is a worker of `sikkerkey-vault serve --workers N`; run that instead\n');
  process.exit(2);
}
let started = false;
process.on('message', (m: unknown) => {
  if (started || !isStart(m)) return;
  started = true;
  run(m).catch(async (err: unknown) => {
    await report({ sk: 'failed', code: isSikkerKeyError(err) ? err.code : 'SK_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
// A message sent before this module's listener existed would be lost: ask for it now.
process.send?.({ sk: 'ready' });

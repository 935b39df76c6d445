/**
 * Moves SQLite's WAL checkpoints off the event loop. By default SQLite checkpoints inside the
 * COMMIT that pushes the WAL past 1,000 pages: under steady load that is a 10–40 ms stall of the
 * serving thread several times a second. A running vault turns that off on its own connection
 * (`wal_autocheckpoint = 0`) and checkpoints from a worker thread instead
 * (sqlite-checkpoint-worker.ts). If the worker dies, automatic checkpoints are turned back on, so
 * the WAL never grows without bound.
 *
 * @example
 *   const stop = startBackgroundCheckpoints(native, file, { everyMs: 200, log });
 *   …
 *   await stop();
 */
import { Worker } from 'node:worker_threads';
export function startBackgroundCheckpoints(native, file, opts = {}) {
    const worker = new Worker(new URL('./sqlite-checkpoint-worker.js', import.meta.url), { workerData: { file, everyMs: opts.everyMs ?? 200 } });
    let stopping = false;
    native.pragma('wal_autocheckpoint = 0');
    const fallBack = (why) => {
        if (stopping)
            return;
        if (native.open)
            native.pragma('wal_autocheckpoint = 1000');
        opts.onError?.(why);
    };
    worker.on('message', (msg) => {
        if (msg.error)
            opts.onError?.(`background checkpoint failed: ${msg.error}`);
    });
    worker.on('error', (err) => fallBack(`the checkpoint worker failed (${err.message}); SQLite checkpoints automatically again`));
    worker.on('exit', (code) => {
        if (code !== 0)
            fallBack(`the checkpoint worker exited with ${code}; SQLite checkpoints automatically again`);
    });
    worker.unref();
    return async () => {
        if (stopping)
            return;
        stopping = true;
        // The store may already be closed (SQLite then checkpoints at close by itself).
        if (native.open)
            native.pragma('wal_autocheckpoint = 1000');
        worker.postMessage('stop');
        await new Promise((resolve) => {
            const t = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
            worker.once('exit', () => {
                clearTimeout(t);
                resolve();
            });
        });
    };
}
//# sourceMappingURL=sqlite-checkpointer.js.map
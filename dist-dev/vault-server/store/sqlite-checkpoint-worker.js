/**
 * The SQLite store's checkpointer, in a worker thread (started by sqlite-checkpointer.ts): copies
 * the write-ahead log back into the database file every `everyMs`, on its own connection, so the
 * event loop that serves requests never stalls in a checkpoint's writes and fsyncs. PASSIVE:
 * it never waits for, nor blocks, the vault's writer; what it cannot copy now it copies next time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
const { file, everyMs } = workerData;
const db = new SqliteDatabase(file, { timeout: 1000 });
db.pragma('synchronous = FULL');
const timer = setInterval(() => {
    try {
        db.pragma('wal_checkpoint(PASSIVE)');
    }
    catch (err) {
        parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
    }
}, everyMs);
parentPort?.on('message', (msg) => {
    if (msg !== 'stop')
        return;
    clearInterval(timer);
    db.close();
    parentPort?.close();
});
//# sourceMappingURL=sqlite-checkpoint-worker.js.map
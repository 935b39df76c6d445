// The vault's files are private: a fresh SQLite store's vault.db, -wal and -shm are 0600 whatever
// the umask, and `serve` warns (one stable log line per file) when a store file or the root-key
// file is readable by group or others — it warns, it does not refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, sqliteFiles } from '../../vault-server/store/open-store.js';
import { PERMISSIVE_FILE_WARNING } from '../../vault-server/store/file-modes.js';
import { startVaultProcess } from '../support/vault-process.js';
const modeOf = (file) => `0${(statSync(file).mode & 0o777).toString(8)}`;
test('a fresh SQLite store\'s vault.db, -wal and -shm are 0600 under a 022 umask, and the umask is restored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sk-modes-'));
    const previous = process.umask(0o022);
    try {
        const store = await openStore({ dataDir: join(dir, 'data') });
        try {
            // Migrating wrote to the store: the WAL and its index exist (statSync throws otherwise).
            const files = sqliteFiles(join(dir, 'data'));
            for (const f of files)
                assert.equal(modeOf(f), '0600', `${f} is ${modeOf(f)}`);
            assert.equal(process.umask(), 0o022, 'the process umask is restored');
        }
        finally {
            await store.close();
        }
    }
    finally {
        process.umask(previous);
        rmSync(dir, { recursive: true, force: true });
    }
});
test('serve warns about a 0644 store file and root-key file (and starts), and is silent when they are 0600', async () => {
    const v = await startVaultProcess();
    try {
        assert.equal(v.proc.output().includes(PERMISSIVE_FILE_WARNING), false, `warned about private files:\n${v.proc.output()}`);
        await v.proc.stop('SIGTERM');
        const db = join(v.dir, 'data', 'vault.db');
        const rootKey = join(v.dir, 'root.key');
        chmodSync(db, 0o644);
        chmodSync(rootKey, 0o644);
        await v.restart();
        const lines = v.proc.output().split('\n').filter((l) => l.includes(PERMISSIVE_FILE_WARNING))
            .map((l) => JSON.parse(l));
        assert.deepEqual(lines.map((l) => [l.file, l.mode, l.level]).sort(), [[db, '0644', 40], [rootKey, '0644', 40]].sort());
        assert.equal((await v.get('/healthz')).status, 200, 'the vault still starts');
    }
    finally {
        await v.close();
    }
});
//# sourceMappingURL=store-file-modes.test.js.map
/**
 * The vault's files are private to its user: the SQLite store (`vault.db`, `-wal`, `-shm`) is
 * created 0600 (open-store.ts opens it under umask 077), and `serve` warns at start about any
 * store file or root-key file that group or others can read. It warns rather than refuses:
 * Kubernetes mounts secret volumes 0644 unless told otherwise (`defaultMode: 0400`).
 *
 * @example
 *   for (const w of permissiveVaultFiles([join(dataDir, 'vault.db'), rootKeyFile])) log.warn(w, PERMISSIVE_FILE_WARNING);
 */
import { statSync } from 'node:fs';
/** The start-up warning's stable message (one log line per file, with `file` and `mode`). */
export const PERMISSIVE_FILE_WARNING = 'a vault file is readable by group or others: chmod 600 it (on Kubernetes, set the secret volume\'s defaultMode: 0400)';
/** The files among `files` whose mode lets group or others read them (missing files are skipped). */
export function permissiveVaultFiles(files) {
    const out = [];
    for (const file of files) {
        let mode;
        try {
            mode = statSync(file).mode & 0o777;
        }
        catch {
            continue;
        }
        if ((mode & 0o044) !== 0)
            out.push({ file, mode: `0${mode.toString(8).padStart(3, '0')}` });
    }
    return out;
}
/** Runs `fn` with the process umask set to 077 (files it creates are 0600), then restores it. */
export function withPrivateUmask(fn) {
    const previous = process.umask(0o077);
    try {
        return fn();
    }
    finally {
        process.umask(previous);
    }
}
//# sourceMappingURL=file-modes.js.map
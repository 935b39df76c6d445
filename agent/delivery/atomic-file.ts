import { closeSync, fchmodSync, fchownSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** `.<name>.sk-<12 hex>.tmp`: the temporary file's name; `isTempOf` must match exactly this. */
const TEMP_PREFIX = (name: string): string => `.${name}.sk-`;
const TEMP_SUFFIX = '.tmp';
const TEMP_RANDOM = /^[0-9a-f]{12}$/;
/** Tries of one write whose temporary file another writer's clean-up removed before the rename. */
const TRIES = 3;

/** Temporary files this process is writing now (full paths): never removed as stale. */
const inFlight = new Set<string>();

function isTempOf(name: string, entry: string): boolean {
  const prefix = TEMP_PREFIX(name);
  return entry.length === prefix.length + 12 + TEMP_SUFFIX.length && entry.startsWith(prefix) && entry.endsWith(TEMP_SUFFIX)
    && TEMP_RANDOM.test(entry.slice(prefix.length, prefix.length + 12));
}

/**
 * Removes temporary files of `path` left by a writer that died between creating one and renaming
 * it (SIGKILL, power loss): each holds a plaintext copy of what was being written — a secret that
 * would otherwise outlive its rotation. Only regular files named exactly as `writeFileAtomic`
 * names the temporary files of this destination, and not one this process is writing; the name is
 * examined with lstat and unlinked, never followed. Best effort: a directory the agent may not
 * list, a file already gone or one it may not remove does not stop the write.
 *
 * Run at the start of every atomic write of the destination (one readdir), so a destination is
 * cleaned as soon as it is written again — after a crash mid-write that is the next render, since
 * the destination still holds the old content. Another process writing the same destination at
 * this moment (`exec` beside `run` on one cache directory) may lose its temporary file to this;
 * `writeFileAtomic` then writes again under a new name.
 */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!isTempOf(name, entry)) continue;
    const tmp = join(dir, entry);
    if (inFlight.has(tmp)) continue;
    try {
      if (!lstatSync(tmp).isFile()) continue;
      unlinkSync(tmp);
    } catch {
      // ENOENT: removed meanwhile (by its writer's rename or another clean-up); EACCES/EPERM
      // (a sticky directory, a file of another user): left, the write itself matters more.
    }
  }
}

/**
 * Replaces `path` with `content` so that a reader sees the old file or the new one, never a part:
 * a temporary file in the same directory (rename is atomic only within one file system), created
 * with the final mode (never readable by others, not even for a moment), owned as asked, synced,
 * renamed over the destination, and the directory synced so the rename survives a crash.
 * Temporary files of the destination left by a crashed writer are removed first (removeStaleTemps).
 *
 * @example
 *   writeFileAtomic('/run/app/db.env', text, { mode: 0o600 });
 */
export function writeFileAtomic(path: string, content: string, opts: { mode: number; uid?: number; gid?: number }): void {
  const dir = dirname(path);
  for (let attempt = 1; ; attempt++) {
    removeStaleTemps(path);
    const tmp = join(dir, `${TEMP_PREFIX(basename(path))}${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    const fd = openSync(tmp, 'wx', opts.mode);
    inFlight.add(tmp);
    try {
      try {
        fchmodSync(fd, opts.mode); // the umask may have taken bits the operator asked for
        if (opts.uid !== undefined || opts.gid !== undefined) fchownSync(fd, opts.uid ?? -1, opts.gid ?? -1);
        const bytes = Buffer.from(content, 'utf8');
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      // The temporary file vanished before the rename: another process's removeStaleTemps took
      // it for a crashed writer's. Write again (the directory is there: the open just succeeded;
      // if it is gone now, the next open says so).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < TRIES) continue;
      throw err;
    } finally {
      inFlight.delete(tmp);
    }
    break;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

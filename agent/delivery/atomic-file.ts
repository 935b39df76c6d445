import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `content` so that a reader sees the old file or the new one, never a part:
 * a temporary file in the same directory (rename is atomic only within one file system), created
 * with the final mode (never readable by others, not even for a moment), owned as asked, synced,
 * renamed over the destination, and the directory synced so the rename survives a crash.
 *
 * @example
 *   writeFileAtomic('/run/app/db.env', text, { mode: 0o600 });
 */
export function writeFileAtomic(path: string, content: string, opts: { mode: number; uid?: number; gid?: number }): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.sk-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', opts.mode);
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
    throw err;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * The offline cache (agent config `cacheDir`): the last value of each secret the agent delivered,
 * so that `exec` and `render` can start while the vault is unreachable. Each secret is one file,
 * mode 0600 in a 0700 directory, AES-256-GCM under a key derived with HKDF-SHA256 from the
 * machine's private key: the cache is exactly as readable as the key that could fetch the values
 * anyway, and useless without it. The time it was stored is inside the ciphertext, so neither
 * touching the file nor copying another secret's file over it makes an entry look fresher or
 * different (the secret's name is the associated data).
 *
 * Served only when the vault cannot be reached or does not answer in time (SK_ERR_CONNECT) or
 * answers 503 — never on a refusal: a 4xx answer deletes the entry (no grant, not found) or the
 * whole cache (machine disabled, expired, key revoked), so a disabled machine's cache stops being
 * served as soon as the vault says so. Entries older than `cacheMaxAge` are refused.
 *
 * A value the vault marks `noStore` (a secret under an access policy) is never stored: its entry
 * becomes a marker that holds no value, so that offline the agent can say why it has nothing to
 * serve. A canary's answer carries no mark — it is a real answer byte for byte, so that no reader
 * can tell — so every other value is stored only after the vault has confirmed, in one more
 * request (a zero-second watch of the version just read: 304), that this machine may still read
 * it: a canary read has disabled the machine (403) or locked the project (423) in its own
 * transaction, so its decoy is never stored, and that refusal empties the cache at once.
 * Each read served is journaled and reported to the vault (cache-reads.ts).
 *
 * @example
 *   const reader = new CachingReader(client, { dir: '/var/lib/sikkerkey/cache', maxAgeMs: 86_400_000, key, log });
 *   await reader.getSecret('shop', 'db'); // from the vault, stored; from the cache when offline
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import { encodePathSegment } from '../../protocol/client.js';
import type { SecretValue, VaultClient } from '../../protocol/client.js';
import { writeFileAtomic } from './atomic-file.js';
import type { DeliveryLog, SecretReader } from './secret-follower.js';
import { CacheReadJournal } from './cache-reads.js';
import type { CacheReadReporter } from './cache-reads.js';

const FORMAT = 'sikkerkey-offline-cache/v1';
/** Refusals after which nothing of this machine's may be served any more. */
export const MACHINE_GONE: ReadonlySet<string> = new Set(['SK_ERR_MACHINE_DISABLED', 'SK_ERR_MACHINE_EXPIRED', 'SK_ERR_KEY_REVOKED', 'SK_ERR_SIGNATURE_UNKNOWN_KEY', 'SK_ERR_PROJECT_LOCKED']);
/** Refusals that end this one secret's entry. */
const SECRET_GONE = new Set(['SK_ERR_NO_GRANT', 'SK_ERR_NOT_FOUND']);

/** The cache key: HKDF-SHA256 over the private key's 32-byte seed, bound to this purpose and key id. */
export function cacheKey(privateKey: KeyObject, keyId: string): Buffer {
  const d = privateKey.export({ format: 'jwk' }).d;
  if (typeof d !== 'string') throw new SikkerKeyError('SK_ERR_KEY_FILE', 'the machine key is not an Ed25519 private key');
  return Buffer.from(hkdfSync('sha256', Buffer.from(d, 'base64url'), Buffer.from(FORMAT), Buffer.from(`cache-key:${keyId}`), 32));
}

/** Length-prefixed, so `a/bc` and `ab/c` can never share associated data. */
function aad(project: string, name: string): Buffer {
  const p = Buffer.from(project, 'utf8');
  const n = Buffer.from(name, 'utf8');
  const len = (b: Buffer): Buffer => { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return l; };
  return Buffer.concat([Buffer.from(FORMAT), len(p), p, len(n), n]);
}

/** Whether a failure means the vault could not be asked (as opposed to it refusing). */
export function isOffline(err: unknown): boolean {
  return isSikkerKeyError(err) && (err.code === 'SK_ERR_CONNECT' || err.statusCode === 503);
}

export interface CacheOptions {
  dir: string;
  maxAgeMs: number;
  /** From {@link cacheKey}. */
  key: Buffer;
  log: DeliveryLog;
  now?: () => number;
  /** Called once per read served from the cache (the agent's `sikkerkey_agent_cache_reads_total`). */
  onServed?: () => void;
}

/** What an entry holds: a value, or only the vault's word that this secret is not to be cached. */
type Entry = { value: SecretValue; noStore?: undefined } | { value?: undefined; noStore: true };

export class OfflineCache {
  /** Reads served from the cache by this process (logged with each). */
  served = 0;
  readonly journal: CacheReadJournal;
  private readonly now: () => number;

  constructor(private readonly opts: CacheOptions) {
    this.now = opts.now ?? Date.now;
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    chmodSync(opts.dir, 0o700);
    this.journal = new CacheReadJournal({ dir: opts.dir, key: opts.key, now: this.now });
  }

  private file(project: string, name: string): string {
    // The file name says nothing of the secret: a hash of its name under the cache key.
    return join(this.opts.dir, `${createHash('sha256').update(this.opts.key).update(aad(project, name)).digest('hex').slice(0, 40)}.skc`);
  }

  /** Keeps the value; a `noStore` value replaces the entry by a marker that holds no value. */
  store(value: SecretValue): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.opts.key, iv);
    cipher.setAAD(aad(value.project, value.name));
    const entry: Entry = value.noStore === true ? { noStore: true } : { value };
    const plain = Buffer.from(JSON.stringify({ storedAt: this.now(), ...entry }), 'utf8');
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    const doc = JSON.stringify({ format: FORMAT, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') });
    writeFileAtomic(this.file(value.project, value.name), doc, { mode: 0o600 });
  }

  /** The entry and its age, or undefined when there is none (or it does not decrypt: another key, edited). */
  load(project: string, name: string): (Entry & { ageMs: number }) | undefined {
    let doc: { format?: string; iv?: string; tag?: string; ct?: string };
    try {
      doc = JSON.parse(readFileSync(this.file(project, name), 'utf8')) as typeof doc;
    } catch {
      return undefined;
    }
    if (doc.format !== FORMAT || !doc.iv || !doc.tag || !doc.ct) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.opts.key, Buffer.from(doc.iv, 'base64'));
      decipher.setAAD(aad(project, name));
      decipher.setAuthTag(Buffer.from(doc.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(doc.ct, 'base64')), decipher.final()]);
      const entry = JSON.parse(plain.toString('utf8')) as { storedAt: number; value?: SecretValue; noStore?: true };
      const ageMs = this.now() - entry.storedAt;
      if (entry.noStore === true) return { noStore: true, ageMs };
      return entry.value === undefined ? undefined : { value: entry.value, ageMs };
    } catch {
      return undefined;
    }
  }

  forget(project: string, name: string): void {
    rmSync(this.file(project, name), { force: true });
  }

  forgetAll(): void {
    for (const f of readdirSync(this.opts.dir)) if (f.endsWith('.skc')) rmSync(join(this.opts.dir, f), { force: true });
  }

  /** Applies a refusal of the vault to the cache: the secret's entry, or all of them, are gone. */
  refused(project: string, name: string, err: unknown): void {
    if (isSikkerKeyError(err) && MACHINE_GONE.has(err.code)) {
      this.forgetAll();
      this.opts.log(`the vault refused this machine (${err.code}): the offline cache was emptied`);
    } else if (isSikkerKeyError(err) && SECRET_GONE.has(err.code)) {
      this.forget(project, name);
    }
  }

  /** What the vault's answer means for the cache; returns the cached value when it may be served. */
  fallback(project: string, name: string, err: unknown): SecretValue {
    if (!isOffline(err)) {
      this.refused(project, name, err);
      throw err;
    }
    const hit = this.load(project, name);
    if (hit === undefined) throw err;
    if (hit.value === undefined) {
      throw new SikkerKeyError('SK_ERR_CONNECT',
        `${(err as SikkerKeyError).message}, and ${project}/${name} is never served from the offline cache: the vault marks it no-store (an access policy governs its reads)`);
    }
    const maxAge = this.opts.maxAgeMs;
    if (hit.ageMs > maxAge) {
      throw new SikkerKeyError('SK_ERR_CACHE_STALE',
        `the vault cannot be reached (${(err as SikkerKeyError).message}) and the offline cache's copy of ${project}/${name} is ${Math.round(hit.ageMs / 1000)} s old, past cacheMaxAge (${Math.round(maxAge / 1000)} s)`);
    }
    // Journaled before the value is handed over: a crash now loses no record of the read.
    try {
      this.journal.record(hit.value);
    } catch (jerr) {
      this.opts.log(`a cache-served read could not be journaled for reporting (${(jerr as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    this.served += 1;
    this.opts.onServed?.();
    this.opts.log(`the vault cannot be reached: ${project}/${name} version ${hit.value.version} served from the offline cache (${Math.round(hit.ageMs / 1000)} s old; ${this.served} cache-served read(s) by this process)`);
    return hit.value;
  }
}

/**
 * Asks the vault whether `version` of the secret is still live and readable by this machine
 * without reading it again: true (304), false (a newer version: not stored this time; following
 * brings it), or the vault's refusal thrown.
 */
export type ConfirmLive = (project: string, name: string, version: number) => Promise<boolean>;

/** {@link ConfirmLive} over the machine's client: `?waitForVersionAfter=V&wait=0`, never audited as a read when unchanged. */
export function confirmLiveWith(client: Pick<VaultClient, 'request'>): ConfirmLive {
  return async (project, name, version) => {
    const res = await client.request('GET', `/v1/projects/${encodePathSegment(project)}/secrets/${encodePathSegment(name)}?waitForVersionAfter=${version}&wait=0`, undefined, { timeoutMs: 10_000 });
    return res.status === 304;
  };
}

/**
 * A reader that keeps the cache current with every value it reads or follows, and serves it when
 * the vault cannot be reached.
 */
export class CachingReader implements SecretReader {
  /**
   * `confirm`: asked before a value is stored (see the file's comment: canaries).
   * `reporter`: sends the journal's cache-served reads; kicked whenever the vault answers a read
   * (it can be reached again) and on start when reads are pending.
   */
  constructor(private readonly client: SecretReader, readonly cache: OfflineCache, private readonly confirm: ConfirmLive, private readonly reporter?: CacheReadReporter) {
    if (reporter !== undefined && cache.journal.pending() > 0) reporter.kick();
  }

  /** Stores a value the vault just answered, once it confirmed the machine may still read it. */
  private async keep(read: SecretValue): Promise<void> {
    if (read.noStore === true) {
      this.cache.store(read); // the marker: no value
      return;
    }
    let live: boolean;
    try {
      live = await this.confirm(read.project, read.name, read.version);
    } catch (err) {
      this.cache.refused(read.project, read.name, err); // a canary's trip ends here: nothing stored, the cache emptied
      return;
    }
    if (live) this.cache.store(read);
  }

  async getSecret(project: string, name: string, opts: { version?: number } = {}): Promise<SecretValue> {
    let read: SecretValue;
    try {
      read = await this.client.getSecret(project, name, opts);
    } catch (err) {
      if (opts.version !== undefined) throw err;
      const served = this.cache.fallback(project, name, err);
      this.reporter?.kick(); // fails while the vault is away, then retries with backoff
      return served;
    }
    if (opts.version === undefined) await this.keep(read);
    this.reporter?.kick();
    return read;
  }

  async *watch(project: string, name: string, opts: { signal?: AbortSignal; waitSeconds?: number; afterVersion?: number } = {}): AsyncGenerator<SecretValue> {
    try {
      for await (const value of this.client.watch(project, name, opts)) {
        await this.keep(value);
        this.reporter?.kick();
        yield value;
      }
    } catch (err) {
      this.cache.fallback(project, name, err); // empties what a refusal ends, then rethrows
      throw err;
    }
  }
}

/**
 * The root key: 32 random bytes, written as base64 text, supplied at every boot and held only in
 * memory. It is read from (first match wins) a file (`--root-key-file`, e.g. a systemd
 * credential), standard input (`--root-key-stdin`), or the `SIKKERKEY_ROOT_KEY` variable.
 * No message here ever contains the key or the text it was parsed from.
 *
 * @example
 *   const rootKey = await loadRootKey({ file: opts.rootKeyFile, stdin: opts.rootKeyStdin });
 *   const keyring = new Keyring(rootKey);
 */
import { randomBytes } from 'node:crypto';
import { open as openFile } from 'node:fs/promises';
import { SikkerKeyError } from '../../protocol/errors.js';
import { KEY_BYTES } from './envelope.js';

export const ROOT_KEY_ENV = 'SIKKERKEY_ROOT_KEY';

/** How to supply the key, for messages: every way, in the order they are tried. */
export const ROOT_KEY_SOURCES_HELP =
  `--root-key-file FILE (base64 text; a systemd credential works), --root-key-stdin, or the ${ROOT_KEY_ENV} environment variable`;

/** A root key file or stdin holds 44 characters; anything much longer is not a root key. */
const MAX_INPUT_BYTES = 4096;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface RootKeySource {
  /** Path of a file holding the key as base64 text. Wins over everything else. */
  file?: string;
  /** Read the key from standard input (until end of input). */
  stdin?: boolean;
  /** Where to look for SIKKERKEY_ROOT_KEY; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** What `stdin` reads; default `process.stdin`. Tests pass their own stream. */
  input?: AsyncIterable<Buffer | string>;
}

/** A new random root key (what `sikkerkey-vault init` prints once). */
export function generateRootKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Base64 of exactly 32 bytes, surrounding whitespace ignored; anything else is SK_ERR_ROOT_KEY_INVALID. */
export function parseRootKey(text: string): Buffer {
  const trimmed = text.trim();
  const invalid = (): SikkerKeyError => new SikkerKeyError('SK_ERR_ROOT_KEY_INVALID',
    `the root key must be base64 text of exactly ${KEY_BYTES} bytes (as printed by sikkerkey-vault init)`);
  // Buffer.from(…, 'base64') skips characters it does not know, so check the alphabet first.
  if (!BASE64.test(trimmed)) throw invalid();
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) throw invalid();
  return key;
}

export async function loadRootKey(src: RootKeySource): Promise<Buffer> {
  if (src.file !== undefined) {
    return parseRootKey(await readKeyFile(src.file));
  }
  if (src.stdin) {
    return parseRootKey(await readAll(src.input ?? process.stdin, 'standard input'));
  }
  const fromEnv = (src.env ?? process.env)[ROOT_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return parseRootKey(fromEnv);
  }
  throw new SikkerKeyError('SK_ERR_ROOT_KEY_MISSING', `no root key supplied: use ${ROOT_KEY_SOURCES_HELP}`);
}

async function readKeyFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await openFile(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SikkerKeyError('SK_ERR_ROOT_KEY_MISSING', `cannot read the root key file ${path} (${code}); supply it with ${ROOT_KEY_SOURCES_HELP}`);
  }
  try {
    return await readAll(handle.createReadStream({ start: 0, autoClose: false }), `the root key file ${path}`);
  } finally {
    await handle.close();
  }
}

async function readAll(input: AsyncIterable<Buffer | string>, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    size += buf.length;
    if (size > MAX_INPUT_BYTES) {
      throw new SikkerKeyError('SK_ERR_ROOT_KEY_INVALID', `${what} holds more than ${MAX_INPUT_BYTES} bytes: that is not a root key`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `serve`'s root keys: each `--root-key-file` (two during a rotation, old and new), or else the
 * one key from standard input or SIKKERKEY_ROOT_KEY.
 */
export async function loadRootKeys(src: Omit<RootKeySource, 'file'> & { files: readonly string[] }): Promise<Buffer[]> {
  if (src.files.length > 0) return Promise.all(src.files.map((file) => loadRootKey({ file })));
  const { files: _files, ...rest } = src;
  return [await loadRootKey(rest)];
}

import { SikkerKeyError } from '../../protocol/errors.js';
import type { SecretValue } from '../../protocol/client.js';

/**
 * One value a delivery asks for: `project/secret` (the whole value; a structured secret's granted
 * fields as JSON, as `get` prints it) or `project/secret#field`.
 *
 * @example
 *   parseSecretRef('shop/db#password') // { project: 'shop', secret: 'db', field: 'password' }
 */
export interface SecretRef {
  readonly project: string;
  readonly secret: string;
  readonly field: string | undefined;
}

/** `project/secret`: the unit that is read and watched (one long-poll per distinct secret). */
export type SecretKey = string;

export function secretKey(ref: Pick<SecretRef, 'project' | 'secret'>): SecretKey {
  return `${ref.project}/${ref.secret}`;
}

export function parseSecretRef(text: string, where: string, code: 'SK_ERR_USAGE' | 'SK_ERR_CONFIG' = 'SK_ERR_USAGE'): SecretRef {
  const m = /^([^/#\s]+)\/([^/#\s]+)(?:#([^#\s]+))?$/.exec(text);
  if (m === null) throw new SikkerKeyError(code, `${where}: ${JSON.stringify(text)} is not project/secret or project/secret#field`);
  return Object.freeze({ project: m[1] as string, secret: m[2] as string, field: m[3] });
}

/** The value a reference names in a read; refuses a field the machine was not granted (or that does not exist). */
export function valueOf(ref: SecretRef, read: SecretValue): string {
  if (ref.field !== undefined) {
    const v = read.fields?.[ref.field];
    if (v === undefined) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no granted field ${JSON.stringify(ref.field)} in ${secretKey(ref)}`);
    return v;
  }
  if (read.fields !== undefined) return JSON.stringify(read.fields);
  return read.value ?? '';
}

/**
 * The variable a field of an `--env-file-secret` becomes: upper-cased, anything outside
 * `[A-Z0-9_]` replaced by `_` (`db-host` → `DB_HOST`).
 */
export function envNameOfField(field: string): string {
  return field.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

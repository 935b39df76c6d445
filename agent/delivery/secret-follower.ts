import type { SecretValue, VaultClient } from '../../protocol/client.js';
import type { SecretKey } from './secret-refs.js';

/** What following needs of the client (tests and the offline cache wrap it). */
export type SecretReader = Pick<VaultClient, 'getSecret' | 'watch'>;

/** One line for stderr: what happened, never a value. */
export type DeliveryLog = (message: string) => void;

/**
 * Reads a set of secrets once, then follows each with one long-poll watch and calls `onChange`
 * with every newer version. A watch that the vault refuses (grant revoked, machine disabled) is
 * reported through `onError` and ends; network faults are retried by the client's watch itself.
 *
 * @example
 *   const f = new SecretFollower(client, ['shop/db']);
 *   const now = await f.readAll();
 *   f.follow((key, value) => restart(), (key, err) => log(String(err)), abort.signal);
 */
export class SecretFollower {
  private readonly versions = new Map<SecretKey, number>();

  constructor(private readonly client: SecretReader, private readonly keys: readonly SecretKey[]) {}

  async readAll(): Promise<Map<SecretKey, SecretValue>> {
    const out = new Map<SecretKey, SecretValue>();
    for (const key of this.keys) {
      const [project, name] = splitKey(key);
      const read = await this.client.getSecret(project, name);
      out.set(key, read);
      this.versions.set(key, read.version);
    }
    return out;
  }

  follow(
    onChange: (key: SecretKey, value: SecretValue) => void | Promise<void>,
    onError: (key: SecretKey, err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return Promise.all(this.keys.map(async (key) => {
      const [project, name] = splitKey(key);
      try {
        for await (const value of this.client.watch(project, name, { signal, afterVersion: this.versions.get(key) ?? 0 })) {
          if (value.version <= (this.versions.get(key) ?? 0)) continue;
          this.versions.set(key, value.version);
          await onChange(key, value);
        }
      } catch (err) {
        if (!signal.aborted) onError(key, err);
      }
    })).then(() => undefined);
  }
}

function splitKey(key: SecretKey): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}

import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { printResult } from '../../protocol/cli.js';
import { VaultClient } from '../../protocol/client.js';

export interface GlobalOpts { url?: string; keyFile?: string; json?: boolean }

/** --url, --key-file, --json wherever they were given on the line (they belong to the program). */
export function globals(cmd: Command): GlobalOpts {
  return cmd.optsWithGlobals<GlobalOpts>();
}

/** The signed client for the operator: --url/--key-file, else SIKKERKEY_URL/SIKKERKEY_KEY_FILE. */
export function clientFor(cmd: Command): VaultClient {
  const g = globals(cmd);
  const url = g.url ?? process.env.SIKKERKEY_URL;
  const keyFile = g.keyFile ?? process.env.SIKKERKEY_KEY_FILE;
  if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
  if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no operator key: set SIKKERKEY_KEY_FILE or pass --key-file');
  // SIKKERKEY_CA_FILE / SIKKERKEY_PIN_SHA256 are read by the client itself, for https:// only.
  return new VaultClient({ url, keyFile });
}

export function out(cmd: Command, value: unknown, human: () => string): void {
  printResult(Boolean(globals(cmd).json), value, human);
}

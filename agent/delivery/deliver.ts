/**
 * What `exec`, `render` and `run` share: the machine's client (from `--config`, or like `get`
 * from SIKKERKEY_URL / SIKKERKEY_AGENT_KEY_FILE), and rendering templates then following them.
 */
import { VaultClient } from '../../protocol/client.js';
import { SikkerKeyError } from '../../protocol/errors.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import type { AgentConfig } from '../config.js';
import { SecretFollower } from './secret-follower.js';
import type { DeliveryLog, SecretReader } from './secret-follower.js';
import { TemplateSet } from './templates.js';
import type { TemplateConfig } from './templates.js';

export interface DeliverySetup {
  client: VaultClient;
  /** What to read and follow through: the client, or the offline cache in front of it (`cacheDir`). */
  reader: SecretReader;
  templates: readonly TemplateConfig[];
  /** Call when done: lets a report of cache-served reads under way finish (within its 5 s deadline), then closes the client. */
  close(): Promise<void>;
}

/** Lines on stderr prefixed with the command, so they are told apart from the child's own output. */
export function stderrLog(command: string): DeliveryLog {
  return (message) => process.stderr.write(`sikkerkey-agent ${command}: ${message}\n`);
}

/** `onCacheRead`: called per read served from the offline cache (`run` counts them in its metrics). */
export async function deliverySetup(opts: { config?: string; url?: string; keyFile?: string }, log: DeliveryLog, env: NodeJS.ProcessEnv = process.env, onCacheRead?: () => void): Promise<DeliverySetup> {
  let config: AgentConfig | undefined;
  if (opts.config !== undefined) {
    const { loadAgentConfig } = await import('../config.js');
    config = loadAgentConfig(opts.config, env);
  }
  const url = opts.url ?? config?.vaultUrl ?? env.SIKKERKEY_URL;
  const keyFile = opts.keyFile ?? config?.keyFile ?? env.SIKKERKEY_AGENT_KEY_FILE;
  if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL, pass --url, or --config');
  if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no machine key: set SIKKERKEY_AGENT_KEY_FILE, pass --key-file, or --config');
  // Read (and permission-check) the key now: a bad key file stops the start, before any child runs.
  const key = readPrivateKeyFile(keyFile);
  const client = new VaultClient({
    url, key: { keyId: key.keyId, privateKey: key.privateKey },
    ...(config?.caFile ? { caFile: config.caFile } : {}), ...(config?.pinSha256 ? { pinSha256: config.pinSha256 } : {}),
  });
  let reader: SecretReader = client;
  let settle = async (): Promise<void> => undefined;
  if (config?.cacheDir !== undefined) {
    const { CachingReader, OfflineCache, MACHINE_GONE, cacheKey, confirmLiveWith } = await import('./offline-cache.js');
    const { CacheReadReporter } = await import('./cache-reads.js');
    const cache = new OfflineCache({ dir: config.cacheDir, maxAgeMs: config.cacheMaxAgeMs, key: cacheKey(key.privateKey, key.keyId), log, ...(onCacheRead ? { onServed: onCacheRead } : {}) });
    const reporter = new CacheReadReporter({
      journal: cache.journal, client, log, machineGone: MACHINE_GONE,
      onMachineRefused: (code) => {
        cache.forgetAll();
        log(`the vault refused this machine (${code}): the offline cache was emptied; its reads stay journaled until the vault takes them`);
      },
    });
    reader = new CachingReader(client, cache, confirmLiveWith(client), reporter);
    settle = async () => { reporter.stop(); await reporter.settle(); };
  }
  return { client, reader, templates: config?.templates ?? [], close: async () => { await settle(); client.close(); } };
}

/**
 * Renders every template once; unless `once`, follows their secrets and re-renders (then runs
 * each command) until `signal` aborts. Resolves when following ends.
 */
export async function renderTemplates(req: { client: SecretReader; templates: readonly TemplateConfig[]; once: boolean; signal: AbortSignal; log: DeliveryLog }): Promise<void> {
  const set = new TemplateSet(req.templates, req.log);
  const follower = new SecretFollower(req.client, set.keys);
  const values = await follower.readAll();
  await set.render(values);
  if (req.once) return;
  await follower.follow(async (key, value) => {
    values.set(key, value);
    try {
      await set.render(values, key);
    } catch (err) {
      req.log(`version ${value.version} of ${key} was not rendered: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, (key, err) => {
    req.log(`stopped following ${key}: ${err instanceof SikkerKeyError ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
  }, req.signal);
}

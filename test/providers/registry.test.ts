import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { SikkerKeyError } from '../../protocol/errors.js';
import { DRIVERS, ENGINES, flavoursOf, operationsOf } from '../../protocol/engines.js';
import type { Engine } from '../../providers/provider.js';
import { loadProvider } from '../../providers/registry.js';

const run = promisify(execFile);
const registryUrl = new URL('../../providers/registry.js', import.meta.url).href;

/**
 * In a fresh Node process: import the registry, load the given engines, and list the npm packages
 * in the CommonJS module cache (every driver here is CommonJS, so an import of one lands there).
 */
async function packagesLoadedAfter(engines: Engine[]): Promise<{ before: string[]; after: string[]; rssMiB: number }> {
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const packages = () => [...new Set(Object.keys(require.cache)
      .map((p) => /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/]/.exec(p)?.[1]).filter(Boolean))];
    const { loadProvider } = await import(${JSON.stringify(registryUrl)});
    const before = packages();
    for (const engine of ${JSON.stringify(engines)}) await loadProvider(engine);
    process.stdout.write(JSON.stringify({ before, after: packages(), rssMiB: Math.round(process.memoryUsage().rss / 1048576) }));
  `;
  const cwd = fileURLToPath(new URL('../../../', import.meta.url));
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd, timeout: 20_000 });
  return JSON.parse(stdout) as { before: string[]; after: string[]; rssMiB: number };
}

describe('provider registry', () => {
  test('importing the registry loads no database driver', async () => {
    const { before } = await packagesLoadedAfter([]);
    for (const driver of DRIVERS) assert.ok(!before.includes(driver), `${driver} was loaded by the registry alone`);
  });

  // from the engine table: each provider name and its flavours' one driver (none for Redis, which speaks RESP itself)
  const expectations = ENGINES.map((engine) => [engine, flavoursOf(engine)[0]?.driver ?? null] as const);
  for (const [engine, driver] of expectations) {
    test(`loading ${engine} loads ${driver ?? 'no driver package'} and none of the other drivers`, async (t) => {
      const { after, rssMiB } = await packagesLoadedAfter([engine]);
      // the positive control: the method sees a driver when one is loaded
      if (driver !== null) assert.ok(after.includes(driver), `${driver} is not in the module cache after loading ${engine}: ${after.join(', ')}`);
      for (const other of DRIVERS.filter((d) => d !== driver)) {
        assert.ok(!after.includes(other), `loading ${engine} also loaded ${other}`);
      }
      if (driver === null) assert.ok(!after.includes('ioredis'), `loading ${engine} loaded ioredis`);
      t.diagnostic(`RSS with only ${engine}: ${rssMiB} MiB`);
    });
  }

  test('each engine gets a provider that names its engine and implements every operation its flavours need', async () => {
    for (const engine of ENGINES) {
      const provider = await loadProvider(engine);
      assert.equal(provider.engine, engine);
      assert.deepEqual(provider.secretValues(), []);
      for (const flavour of flavoursOf(engine)) {
        for (const op of operationsOf(flavour.flavour)) {
          assert.equal(typeof provider[op], 'function', `${engine} lacks ${op}, which ${flavour.label} needs`);
          assert.ok(provider.operations.includes(op), `${engine} does not declare ${op}`);
        }
      }
      await provider.close();
    }
  });

  test('an unknown engine is refused with SK_ERR_PROVIDER_CONFIG; supabase is the PostgreSQL provider with its preset', async () => {
    await assert.rejects(loadProvider('oracle' as Engine), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_PROVIDER_CONFIG' && err.message.includes('oracle'));
    const supabase = await loadProvider('supabase');
    assert.equal(supabase.engine, 'supabase');
    await supabase.close();
  });

  test('mongodb loads from its own module and names its engine', async () => {
    const provider = await loadProvider('mongodb');
    assert.equal(provider.engine, 'mongodb');
    await provider.close();
  });
});

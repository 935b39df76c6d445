// What each binary loads before it does anything: the operator CLI and the agent start often
// (every command, every sidecar restart), so neither may pull in the vault server's packages —
// the query builder alone is ~260 ES modules and doubled the CLI's start-up. Recorded in a fresh
// Node process by a module `load` hook, which sees every ES module and the entry file of every
// CommonJS package imported from one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../../', import.meta.url));

/** The vault server's own packages: a client binary needs none of them. */
const SERVER_PACKAGES = ['kysely', 'fastify', 'pg', 'better-sqlite3', 'pino', 'prom-client', 'ajv', 'maxmind', 're2js', 'croner'];

/** The npm packages `node BIN ARGS` loads; a run that does not exit 0 fails the test. */
async function packagesLoadedBy(bin: string, args: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-imports-'));
  try {
    const out = join(dir, 'loaded.txt');
    const hooks = `import { appendFileSync } from 'node:fs';
      export async function load(url, context, next) { appendFileSync(${JSON.stringify(out)}, url + '\\n'); return next(url, context); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    await run(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, join(dist, bin), ...args], { timeout: 20_000 });
    const urls = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    return [...new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined))].sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('start-up imports of the binaries', () => {
  test('sikkerkey-vault loads its store packages (the method sees ES and CommonJS packages alike), but the HTTP server, pg and maxmind only when used', async () => {
    const loaded = await packagesLoadedBy('vault-server/main.js', ['--help']);
    for (const p of ['kysely', 'better-sqlite3', 'commander']) assert.ok(loaded.includes(p), `${p} not seen in: ${loaded.join(', ')}`);
    // fastify for serve (init, migrate, backup… serve nothing), pg for a PostgreSQL store
    // (store/pg-driver.ts), maxmind for --geoip-db
    for (const p of ['fastify', 'pg', 'maxmind']) assert.ok(!loaded.includes(p), `sikkerkey-vault loads ${p} at start`);
  });

  for (const [name, bin] of [['sikkerkey (the operator CLI)', 'vault-server/cli/main.js'], ['sikkerkey-agent', 'agent/main.js']] as const) {
    test(`${name} loads none of the vault server's packages`, async () => {
      const loaded = await packagesLoadedBy(bin, ['--help']);
      assert.ok(loaded.includes('commander'), `commander not seen in: ${loaded.join(', ')}`);
      const server = loaded.filter((p) => SERVER_PACKAGES.includes(p));
      assert.deepEqual(server, [], `${name} loads ${server.join(', ')}`);
    });
  }
});

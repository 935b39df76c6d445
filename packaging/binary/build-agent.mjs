#!/usr/bin/env node
// `npm run build:agent`: the agent as ONE executable file, built offline (FINDINGS "Single
// executable"): esbuild bundles agent/main.ts with every provider and driver into one CommonJS file
// → Node's Single Executable Application blob → postject injects it into a stripped copy of the
// node binary that runs this script. Nothing is downloaded: esbuild and postject come from
// node_modules, the base binary is this machine's node (so the result is for this OS and CPU).
//
//   node packaging/binary/build-agent.mjs [--out FILE] [--no-strip] [--json]
//
// Prints what it built: path, size, build time. Writes the executable atomically (a half-built
// file never stands at the output path).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1]) : join(root, 'dist', 'bin', 'sikkerkey-agent');
const work = join(dirname(out), '.sea-build');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The drivers from the engine table: its TypeScript source, bundled in memory and imported. */
async function engineDrivers() {
  const res = await build({ entryPoints: [join(root, 'protocol', 'engines.ts')], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' });
  const source = res.outputFiles[0]?.text ?? '';
  const table = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
  return table.DRIVERS;
}

// The fuse every SEA-capable node binary carries; postject flips it so node runs the blob.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// Inside a SEA, `require` loads built-in modules only, and for anything else Node prints a
// warning ("require only supports built-in modules") before throwing. The bundle still holds a
// few optional requires inside try/catch (mysql2's `cardinal`, mongodb's kerberos/snappy/zstd/
// client-encryption, pg-native, socks…): answer them the way a plain node answers a package that
// is not installed, so each library takes its usual "optional dependency missing" path quietly.
const REQUIRE_SHIM = `var require = ((sea) => {
  const { isBuiltin } = sea('node:module');
  return Object.assign((id) => {
    if (isBuiltin(id)) return sea(id);
    const err = new Error("Cannot find module '" + id + "' (not included in the sikkerkey-agent executable)");
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }, { resolve: (id) => { if (isBuiltin(id)) return id; const e = new Error("Cannot find module '" + id + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; } });
})(require);`;

function step(what, fn) {
  const t = performance.now();
  const result = fn();
  const done = (v) => { if (!flag('--json')) process.stderr.write(`build:agent  ${what} (${Math.round(performance.now() - t)} ms)\n`); return v; };
  return result instanceof Promise ? result.then(done) : done(result);
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: work, maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim()}`);
  // LIEF (inside postject) warns about every unnamed note section of a stripped binary: noise
  const rest = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/Can't find string offset for section name/.test(l));
  if (rest.length > 0 && !flag('--json')) process.stderr.write(rest.join('\n') + '\n');
  return r.stdout;
}

const started = performance.now();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
try {
  const bundle = join(work, 'sikkerkey-agent.cjs');
  const meta = await step('esbuild bundle', () => build({
    entryPoints: [join(root, 'agent', 'main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Node 20's SEA runs a CommonJS main script only.
    format: 'cjs',
    banner: { js: REQUIRE_SHIM },
    // No npm in the picture at run time: the version is fixed at build time.
    define: { 'process.env.npm_package_version': JSON.stringify(pkg.version) },
    // Optional native or cloud add-ons nobody running the agent needs; everything else (all four
    // drivers, @mongodb-js/saslprep which mongodb loads eagerly) goes into the bundle. The drivers
    // stay lazily initialised: providers/registry.ts imports them with import(), which esbuild
    // turns into on-demand module initialisation.
    external: ['cardinal', 'pg-native', 'kerberos', 'snappy', '@mongodb-js/zstd', 'mongodb-client-encryption', 'socks',
      'gcp-metadata', '@aws-sdk/credential-providers', 'supports-color'],
    legalComments: 'none',
    // Whitespace and syntax only: every name (functions, classes, error names) stays as written.
    // The SEA holds its whole main script in memory, all four drivers included, run or not:
    // minified (4.5 → 3.1 MB), the idle agent's own memory is ~5.5 MiB smaller
    // (docs/benchmarks-agent.md, agent-footprint).
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    metafile: true,
  }));
  const inputs = Object.keys(meta.metafile.inputs);
  // every driver the engine table names (protocol/engines.ts), and what mongodb loads eagerly
  const drivers = [...(await engineDrivers()), '@mongodb-js/saslprep'];
  for (const required of drivers.map((d) => `node_modules/${d}/`)) {
    if (!inputs.some((i) => i.startsWith(required) || i.includes(`/${required}`))) throw new Error(`the bundle lacks ${required}: a provider would fail at run time`);
  }

  const seaConfig = join(work, 'sea-config.json');
  const blob = join(work, 'sea-prep.blob');
  // useCodeCache: V8's compiled code ships in the blob; start-up is ~15 % faster for ~2 MB.
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  step('SEA blob', () => run(process.execPath, ['--experimental-sea-config', seaConfig]));

  const tmpBin = join(work, 'sikkerkey-agent');
  step(`copy ${process.execPath}`, () => copyFileSync(process.execPath, tmpBin));
  chmodSync(tmpBin, 0o755);
  if (!flag('--no-strip')) step('strip', () => run('strip', ['--strip-all', tmpBin]));
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  step('postject', () => run(process.execPath, [postject, tmpBin, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]));

  // Prove it starts before it takes the output path.
  const version = step('--version check', () => run(tmpBin, ['--version']).trim());
  if (version !== pkg.version) throw new Error(`the built executable says --version ${JSON.stringify(version)}, expected ${pkg.version}`);
  mkdirSync(dirname(out), { recursive: true });
  renameSync(tmpBin, out);

  const result = {
    path: relative(process.cwd(), out) || out,
    version,
    bytes: statSync(out).size,
    bundleBytes: statSync(bundle).size,
    stripped: !flag('--no-strip'),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    buildMs: Math.round(performance.now() - started),
  };
  if (flag('--json')) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(`built ${result.path}: ${(result.bytes / 2 ** 20).toFixed(1)} MiB, sikkerkey-agent ${version}, node ${result.node} ${result.platform}, in ${(result.buildMs / 1000).toFixed(1)} s\n`);
} catch (err) {
  process.stderr.write(`build:agent failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}

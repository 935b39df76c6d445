#!/usr/bin/env node
// `npm run build:agent`: the agent as ONE executable file, built offline (FINDINGS "Single
// executable"): esbuild bundles agent/main.ts with every provider into one CommonJS file, and each
// database driver into one of its own (a SEA asset, loaded when a provider first needs it)
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
// warning ("require only supports built-in modules") before throwing. So the main script's
// `require` is this shim: a built-in module as usual; a database driver (pg, mysql2/promise,
// mongodb) from its own bundle, stored beside the main script as a SEA asset and compiled the
// first time a provider asks for it — an agent that never talks to MongoDB never holds the
// MongoDB driver's source, let alone its code; anything else (mysql2's `cardinal`, mongodb's
// kerberos/snappy/zstd/client-encryption, pg-native, socks… — optional requires inside
// try/catch) is answered the way a plain node answers a package that is not installed, so each
// library takes its usual "optional dependency missing" path quietly. The drivers' bundles get
// the same shim as their `require`.
const requireShim = (assets) => `var require = ((sea) => {
  const { isBuiltin } = sea('node:module');
  const assets = ${JSON.stringify(assets)};
  const loaded = new Map();
  const shim = Object.assign((id) => {
    if (isBuiltin(id)) return sea(id);
    if (Object.hasOwn(assets, id)) {
      let module = loaded.get(id);
      if (module === undefined) {
        module = { exports: {} };
        loaded.set(id, module);
        const source = sea('node:sea').getAsset(assets[id], 'utf8');
        sea('node:vm').compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: assets[id] })
          .call(module.exports, module.exports, shim, module, assets[id], '.');
      }
      return module.exports;
    }
    const err = new Error("Cannot find module '" + id + "' (not included in the sikkerkey-agent executable)");
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }, { resolve: (id) => { if (isBuiltin(id) || Object.hasOwn(assets, id)) return id; const e = new Error("Cannot find module '" + id + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; } });
  return shim;
})(require);`;
// What the providers import of each driver (providers/*/…): each becomes one asset.
const DRIVER_IMPORTS = { pg: 'pg', mysql2: 'mysql2/promise', mongodb: 'mongodb' };
// Optional native or cloud add-ons nobody running the agent needs.
const OPTIONAL = ['cardinal', 'pg-native', 'kerberos', 'snappy', '@mongodb-js/zstd', 'mongodb-client-encryption', 'socks',
  'gcp-metadata', '@aws-sdk/credential-providers', 'supports-color'];
// Whitespace and syntax only: every name (functions, classes, error names) stays as written.
const MINIFY = { minifyWhitespace: true, minifySyntax: true, legalComments: 'none' };

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
  const tableDrivers = await engineDrivers();
  for (const d of tableDrivers) if (!(d in DRIVER_IMPORTS)) throw new Error(`the engine table names driver ${d}, which build-agent.mjs does not know how to bundle`);
  // One bundle per driver: `module.exports = require('<what the providers import>')`, with
  // everything it needs (mongodb: @mongodb-js/saslprep, which it loads eagerly).
  const assets = {};
  for (const driver of tableDrivers) {
    const spec = DRIVER_IMPORTS[driver];
    const file = join(work, `driver-${driver}.cjs`);
    const res = await step(`esbuild ${driver}`, () => build({
      stdin: { contents: `module.exports = require(${JSON.stringify(spec)});`, resolveDir: root, loader: 'js' },
      outfile: file, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: OPTIONAL, ...MINIFY, logLevel: 'warning', metafile: true,
    }));
    const inputs = Object.keys(res.metafile.inputs);
    for (const required of [driver, ...(driver === 'mongodb' ? ['@mongodb-js/saslprep'] : [])].map((d) => `node_modules/${d}/`)) {
      if (!inputs.some((i) => i.startsWith(required) || i.includes(`/${required}`))) throw new Error(`the ${driver} bundle lacks ${required}: a provider would fail at run time`);
    }
    assets[spec] = `driver-${driver}.cjs`;
  }
  const meta = await step('esbuild bundle', () => build({
    entryPoints: [join(root, 'agent', 'main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Node 20's SEA runs a CommonJS main script only.
    format: 'cjs',
    banner: { js: requireShim(assets) },
    // No npm in the picture at run time: the version is fixed at build time.
    define: { 'process.env.npm_package_version': JSON.stringify(pkg.version) },
    // The drivers are assets of their own (above), required through the shim when a provider
    // first loads (providers/registry.ts imports each provider with import(), which esbuild turns
    // into on-demand module initialisation); the optional add-ons are left out.
    external: [...Object.keys(assets), ...OPTIONAL],
    // The SEA holds its whole main script in memory: minified (and without the drivers, which
    // were 2.6 of its 3.1 MB), the idle agent's own memory is smaller (docs/benchmarks-agent.md,
    // agent-footprint).
    ...MINIFY,
    logLevel: 'warning',
    metafile: true,
  }));
  const inputs = Object.keys(meta.metafile.inputs);
  for (const driver of tableDrivers) {
    if (inputs.some((i) => i.includes(`node_modules/${driver}/`))) throw new Error(`the main bundle holds ${driver}, which should be only in its asset`);
  }
  const seaConfig = join(work, 'sea-config.json');
  const blob = join(work, 'sea-prep.blob');
  // useCodeCache: V8's compiled code ships in the blob; start-up is ~15 % faster for ~2 MB.
  writeFileSync(seaConfig, JSON.stringify({
    main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true,
    assets: Object.fromEntries(Object.values(assets).map((name) => [name, join(work, name)])),
  }));
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

#!/usr/bin/env node
// What the test suite needs from the machine besides node_modules: the one list of tools and the
// Debian packages that bring them. `npm test` runs this first, and .ci/run runs it before
// `npm ci`. Missing tools are installed with apt-get when this runs as root and apt-get exists;
// otherwise it stops at once with one message naming the packages and the command to install them.
//
//   node scripts/test-requirements.mjs              check, install what is missing (root + apt-get)
//   node scripts/test-requirements.mjs --no-install check only; exit 1 naming what is missing
//
// Dependency-free on purpose (Node's standard library only): it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directories holding the daemons (mariadbd, useradd, runuser) that a non-root PATH often lacks. */
export const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The absolute path of `name` on PATH or in the sbin directories, or undefined. */
export function findExecutable(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

/** The newest /usr/lib/postgresql/N/bin with initdb, pg_ctl and postgres (Debian's layout), or undefined. */
export function postgresBinDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((tool) => isExecutable(join(bin, tool)))) return bin;
  }
  return undefined;
}

/** Whether the python3 on PATH (the one the tests run) can import `module`. */
const pythonHas = (module) => spawnSync('python3', ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 }).status === 0;
const osUserExists = (user) => spawnSync('id', ['-u', user], { stdio: 'ignore' }).status === 0;
const asRoot = () => process.getuid?.() === 0;
const tools = (...names) => () => names.every((n) => findExecutable(n) !== undefined);

/**
 * Everything the suite uses that npm does not bring, with the Debian package for each. Coreutils,
 * bash, tar, gzip, awk and the like are part of every Debian system and not listed.
 */
export const REQUIREMENTS = [
  // the store, provider and e2e tests' own PostgreSQL, and the rotation tests' scram clusters
  // (initdb runs as the OS user postgres when the suite runs as root)
  { what: 'PostgreSQL server (initdb, pg_ctl, postgres)', pkg: 'postgresql', present: () => postgresBinDir() !== undefined && (!asRoot() || osUserExists('postgres')) },
  // the suite's own MariaDB, and the TLS tests' private ones (mariadbd drops to the OS user mysql under root)
  { what: 'MariaDB server (mariadbd, mariadb-install-db)', pkg: 'mariadb-server', present: () => tools('mariadbd', 'mariadb-install-db')() && (!asRoot() || osUserExists('mysql')) },
  { what: 'redis-server', pkg: 'redis-server', present: tools('redis-server') },
  // throwaway CAs and certificates for the TLS tests
  { what: 'openssl', pkg: 'openssl', present: tools('openssl') },
  // packaging: the bootstrap scripts are shellcheck-clean; the unit passes systemd-analyze, and
  // bootstrap enables it with systemctl --root into a copy of /usr/lib/systemd/system
  { what: 'shellcheck', pkg: 'shellcheck', present: tools('shellcheck') },
  { what: 'systemd-analyze, systemctl', pkg: 'systemd', present: () => tools('systemd-analyze', 'systemctl')() && existsSync('/usr/lib/systemd/system') },
  // bootstrap.sh creates the agent's user with useradd --prefix
  { what: 'useradd', pkg: 'passwd', present: tools('useradd') },
  // the single-executable agent is built from a stripped copy of node
  { what: 'strip', pkg: 'binutils', present: tools('strip') },
  // the agent-binary test reads the agent's memory with ps
  { what: 'ps', pkg: 'procps', present: tools('ps') },
  // runs initdb as postgres under root
  { what: 'runuser', pkg: 'util-linux', present: () => !asRoot() || findExecutable('runuser') !== undefined },
  // the country-allowlist tests write their own MaxMind database with Perl
  {
    what: 'perl module MaxMind::DB::Writer::Tree',
    pkg: 'libmaxmind-db-writer-perl',
    present: () => spawnSync('perl', ['-MMaxMind::DB::Writer::Tree', '-e1'], { stdio: 'ignore', timeout: 30_000 }).status === 0,
  },
  // the Python client's tests (clients/python, which depends on cryptography only), and the agent's
  // templates read back by the consumers' own parsers (PyYAML, python-dotenv)
  // the dashboard's real-browser tests (test/ui) drive Debian's Chromium with playwright-core (no browser download)
  { what: 'chromium', pkg: 'chromium', present: () => isExecutable('/usr/bin/chromium') },
  { what: 'python3', pkg: 'python3', present: tools('python3') },
  { what: 'python module cryptography', pkg: 'python3-cryptography', present: () => pythonHas('cryptography') },
  { what: 'python module yaml', pkg: 'python3-yaml', present: () => pythonHas('yaml') },
  { what: 'python module dotenv', pkg: 'python3-dotenv', present: () => pythonHas('dotenv') },
];

/** The requirements not met right now. */
export const missingRequirements = () => REQUIREMENTS.filter((r) => !r.present());

const unique = (xs) => [...new Set(xs)];
const describe = (missing) => missing.map((r) => (r.what === r.pkg ? r.what : `${r.what} (${r.pkg})`)).join(', ');

function apt(args) {
  const r = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`apt-get ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}):\n${tail}`);
  }
}

/**
 * Makes sure every requirement is met: installs the missing packages with apt-get when allowed,
 * running as root and apt-get exists; otherwise throws one error naming the packages and the
 * command. Returns the packages it installed (none when all were present).
 */
export function ensureRequirements({ install = true, log = (line) => console.log(line) } = {}) {
  const missing = missingRequirements();
  if (missing.length === 0) return [];
  const pkgs = unique(missing.map((r) => r.pkg));
  const command = `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  if (!install || !asRoot() || findExecutable('apt-get') === undefined) {
    const why = !install ? '' : findExecutable('apt-get') === undefined ? ' (no apt-get here: install the same packages with your package manager)' : '';
    throw new Error(`the test suite needs tools that are not installed: ${describe(missing)}. Install them with:\n  sudo ${command}${why}`);
  }
  log(`requirements: missing ${describe(missing)}; installing with apt-get: ${pkgs.join(' ')}`);
  const started = Date.now();
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  const still = missingRequirements();
  if (still.length > 0) throw new Error(`still missing after \`${command}\`: ${describe(still)} (installed, but not on PATH?)`);
  log(`requirements: installed ${pkgs.join(' ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return pkgs;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const installed = ensureRequirements({ install: !process.argv.includes('--no-install') });
    if (installed.length === 0) console.log(`requirements: all present (${unique(REQUIREMENTS.map((r) => r.pkg)).join(', ')})`);
  } catch (err) {
    console.error(`requirements: ${err.message}`);
    process.exit(1);
  }
}

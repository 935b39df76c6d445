#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with Node's own test runner, one
// `node --test` per area (the top directory under dist/test: agent, clients, e2e, fault, ha,
// packaging, protocol, providers, support, ui, vault-server), and prints how long each area took.
//
//   node scripts/run-tests.mjs                     every test file
//   node scripts/run-tests.mjs protocol store      files whose path contains any of the words
//   node scripts/run-tests.mjs e2e --test-name-pattern=redis   options starting with -- go to node
//   node scripts/run-tests.mjs --concurrency=1     one test file at a time (this one is not for node)
//
// Before the tests: the requirements check (scripts/test-requirements.mjs; installs missing
// Debian packages when run as root), then a throwaway PostgreSQL, MariaDB and Redis on free ports
// (scripts/test-services.mjs) unless PG_URL / MYSQL_URL / REDIS_URL name servers to use instead;
// the test processes get those three URLs. Every test has 120 s unless it states its own timeout
// (scripts/test-timeout.mjs; `--test-timeout=N` sets another default), every test file 10 min
// (node's --test-timeout, which on Node 20 applies to whole files only).
// Three test files run at a time (most of a file's time is spent waiting on servers, timers and
// fsync; on 2 cores 3 at a time ran the suite in 876 and 938 s against 1,745 s one at a time, 2
// at a time in 1,075 and 1,319 s); `--concurrency=N` or SK_TEST_CONCURRENCY=N sets another number, and 1 is
// Node's own default on 2 cores: one file at a time, areas in order, output straight through.
// An area's node --test runs min(N, its files) files at once (--test-concurrency) and holds that
// many of the N slots; the areas with the most files start first and smaller areas fill slots
// left free, so areas may run side by side, each one's output shown whole once the areas
// started before it have ended.
// Node 20's directory discovery would also run helper modules under test/, so files are listed.
// Ends with the slowest test files (timed by scripts/test-file-times.mjs), the failed tests (name,
// place, first line of the error; from the TAP reports), a table per area and
// one line `N passed, N failed, N skipped`; exits non-zero when any area failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureRequirements, SBIN_DIRS } from './test-requirements.mjs';
import { startTestServicesOrExit } from './test-services.mjs';

const ROOT = 'dist/test';
const FILE_TIMEOUT_MS = 600_000;
const DEFAULT_CONCURRENCY = 3;
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const timeoutArg = args.findLast((a) => a.startsWith('--test-timeout='));
const testTimeoutMs = timeoutArg === undefined ? 120_000 : Number(timeoutArg.slice('--test-timeout='.length));
const concurrencyArg = args.findLast((a) => a.startsWith('--concurrency='));
const concurrencyText = concurrencyArg === undefined ? process.env.SK_TEST_CONCURRENCY ?? String(DEFAULT_CONCURRENCY) : concurrencyArg.slice('--concurrency='.length);
const concurrency = Number(concurrencyText);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`the concurrency (--concurrency=N or SK_TEST_CONCURRENCY) must be a whole number of at least 1, not "${concurrencyText}"`);
  process.exit(1);
}
const passThrough = args.filter((a) => a.startsWith('--') && !a.startsWith('--test-timeout=') && !a.startsWith('--concurrency='));
// `--test-concurrency` given for node itself: each area then runs that many of its files at once
const userConcurrency = passThrough.some((a) => a.startsWith('--test-concurrency'));
const preload = pathToFileURL(fileURLToPath(new URL('test-timeout.mjs', import.meta.url))).href;
const timesPreload = pathToFileURL(fileURLToPath(new URL('test-file-times.mjs', import.meta.url))).href;
const SLOWEST_SHOWN = 12;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.js') ? [path] : [];
  });
}

let files;
try {
  files = walk(ROOT);
} catch (err) {
  console.error(`cannot read ${ROOT} (${err.code ?? err.message}): build first (npm run build)`);
  process.exit(1);
}
// The longest files start first (node --test starts an area's files in the order given): an area
// that ends with one of them running alone leaves its other slots idle, and the next area waits.
// From a run on 2 cores (the slowest list this script prints); a file missing here just starts
// in alphabetical order with the rest.
const LONGEST_FIRST = [
  'fault/crash-matrix.test.js', 'vault-server/ops-workers.test.js', 'e2e/strategies.test.js', 'e2e/leases.test.js',
  'e2e/rotation-postgres.test.js', 'fault/traffic.test.js', 'fault/crash-matrix-workers.test.js', 'fault/lease-crash-matrix.test.js',
  'vault-server/audit-cli.test.js', 'e2e/operators-team.test.js', 'vault-server/long-poll-queries.test.js', 'vault-server/rotation-job-poll.test.js',
];
const longRank = (f) => {
  const i = LONGEST_FIRST.indexOf(relative(ROOT, f).split(sep).join('/'));
  return i === -1 ? LONGEST_FIRST.length : i;
};
files = files.filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort((a, b) => longRank(a) - longRank(b) || (a < b ? -1 : a > b ? 1 : 0));
if (files.length === 0) {
  console.error(`no test files under ${ROOT} match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}
// Areas in alphabetical order (the table's), each area's files longest first.
const areas = new Map();
for (const f of [...files].sort()) {
  const parts = relative(ROOT, f).split(sep);
  areas.set(parts.length > 1 ? parts[0] : '(top)', []);
}
for (const f of files) {
  const parts = relative(ROOT, f).split(sep);
  const area = parts.length > 1 ? parts[0] : '(top)';
  areas.set(area, [...(areas.get(area) ?? []), f]);
}

try {
  ensureRequirements();
} catch (err) {
  console.error(`requirements: ${err.message}`);
  process.exit(1);
}

const services = await startTestServicesOrExit();

// the test processes start mariadbd, runuser and the like by name: a non-root PATH lacks sbin
const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
const env = {
  ...process.env, ...services.env, SK_TEST_TIMEOUT_MS: String(testTimeoutMs),
  PATH: [...path, ...SBIN_DIRS.filter((d) => !path.includes(d))].join(delimiter),
};

// The reporter a person sees is node's own choice (spec on a terminal, tap otherwise); a second,
// TAP reporter into a file gives this script the counts.
const userReporters = passThrough.filter((a) => a.startsWith('--test-reporter=') || a === '--test-reporter').length;
const userDestinations = passThrough.filter((a) => a.startsWith('--test-reporter-destination')).length;
const reportDir = mkdtempSync(join(tmpdir(), 'sk-test-report-'));
const timesFile = join(reportDir, 'file-times.tsv');
env.SK_TEST_TIMES_FILE = timesFile;

const running = new Set();
let interrupted;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted ??= signal;
    for (const child of running) child.kill(signal);
  });
}

// With more than one area at a time their output would interleave: each area's output is held
// back until the areas started before it have ended, then shown (the oldest running area's live).
// One at a time, an area's node --test writes straight to this terminal, as before.
const shown = [];
const showNext = () => {
  while (shown.length > 0) {
    const head = shown[0];
    for (const [stream, chunk] of head.held.splice(0)) stream.write(chunk);
    head.live = true;
    if (!head.done) return;
    shown.shift();
  }
};

function runArea(area, areaFiles, fileConcurrency) {
  const tapFile = join(reportDir, `${area.replace(/[^\w.-]/g, '_')}.tap`);
  const reporters = userReporters > 0
    ? Array(Math.max(0, userReporters - userDestinations)).fill('--test-reporter-destination=stdout')
    : [`--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout'];
  const concurrencyArg = userConcurrency ? [] : [`--test-concurrency=${fileConcurrency}`];
  const argv = [`--import=${preload}`, `--import=${timesPreload}`, '--test', `--test-timeout=${FILE_TIMEOUT_MS}`, ...concurrencyArg, ...passThrough, ...reporters, '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...areaFiles];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: concurrency > 1 ? ['inherit', 'pipe', 'pipe'] : 'inherit', env });
    running.add(child);
    if (concurrency > 1) {
      const out = { held: [], live: false, done: false };
      shown.push(out);
      for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
        from.on('data', (chunk) => (out.live ? to.write(chunk) : out.held.push([to, chunk])));
      }
      child.once('close', () => {
        out.done = true;
        if (out.live) {
          shown.shift();
          showNext();
        }
      });
      showNext();
    }
    child.once('close', (code, signal) => {
      running.delete(child);
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        // no report: the run itself failed
      }
      // node's closing summary (`# pass N` …) comes last; a test's own output never follows it
      const count = (key) => {
        const all = [...tap.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
        return all.length > 0 ? Number(all[all.length - 1][1]) : undefined;
      };
      const pass = count('pass') ?? 0;
      let failed = (count('fail') ?? 0) + (count('cancelled') ?? 0);
      const ok = code === 0 && count('pass') !== undefined;
      if (!ok && failed === 0) failed = 1; // crashed or killed before it could count: still a failure
      resolve({ area, files: areaFiles.length, seconds: (performance.now() - started) / 1000, pass, failed, skipped: count('skipped') ?? 0, ok, exit: code ?? signal, failures: failuresIn(tap) });
    });
  });
}

// The failed tests in a TAP report, each with where it is and the first line of its error: a
// long run's log is often read from its end, where the tables come, so they are named there
// too. A test that failed only because a subtest did is left out (the subtest is named).
function failuresIn(tap) {
  const failures = [];
  const lines = tap.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1];
    const failure = { name: m[2].replace(/ # .*$/, ''), location: '', at: '', error: '', type: '' };
    for (let j = i + 1; j < lines.length && lines[j].startsWith(`${indent}  `); j++) {
      // the test's own line in the stack: `location` names the preload that wraps test()
      const own = /\(?(?:file:\/\/)?(\/[^\s()]*\/dist\/test\/[^\s()]*:\d+:\d+)\)?$/.exec(lines[j]);
      if (own && !failure.at) failure.at = own[1];
      const field = /^\s*(location|error|failureType):\s*(.*)$/.exec(lines[j]);
      if (!field || failure[field[1] === 'failureType' ? 'type' : field[1]]) continue;
      let value = field[2].replace(/^'(.*)'$/, '$1');
      // a block scalar (`|-`): its first line is the next one
      if (/^[|>]-?$/.test(value)) value = (lines[j + 1] ?? '').trim();
      failure[field[1] === 'failureType' ? 'type' : field[1]] = value;
    }
    if (failure.type !== 'subtestsFailed') failures.push(failure);
  }
  return failures;
}

// Slots for test files: an area takes min(concurrency, its files) of them while it runs (node
// --test runs that many of its files at once); the areas with the most files start first, and a
// smaller area takes slots a bigger one leaves free. The table keeps the areas' own order.
// Areas that run with nothing beside them (all N slots): ha restarts its own PostgreSQL cluster
// under two replicas and holds them to readiness deadlines; next to other areas it failed once
// (a replica not answering for 30 s after the restart), alone it never did.
const ALONE = new Set(['ha']);
const results = [];
const t0 = performance.now();
const waiting = concurrency === 1 ? [...areas] : [...areas].sort(([a, fa], [b, fb]) => fb.length - fa.length || (a < b ? -1 : 1));
let freeSlots = concurrency;
await new Promise((allDone) => {
  const startMore = () => {
    for (let i = 0; i < waiting.length && !interrupted;) {
      const [area, areaFiles] = waiting[i];
      const slots = ALONE.has(area) ? concurrency : Math.min(concurrency, areaFiles.length);
      if (slots > freeSlots) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      freeSlots -= slots;
      runArea(area, areaFiles, Math.min(slots, areaFiles.length)).then((result) => {
        results.push(result);
        freeSlots += slots;
        startMore();
      });
    }
    if (running.size === 0 && (waiting.length === 0 || interrupted)) allDone();
  };
  startMore();
});
const order = [...areas.keys()];
results.sort((a, b) => order.indexOf(a.area) - order.indexOf(b.area));
const wall = (performance.now() - t0) / 1000;
await services.stop();
let fileTimes = [];
try {
  fileTimes = readFileSync(timesFile, 'utf8').split('\n').filter(Boolean).map((line) => line.split('\t'));
} catch {
  // no test process got as far as exiting
}
rmSync(reportDir, { recursive: true, force: true });

const sum = (key) => results.reduce((n, r) => n + r[key], 0);
const rows = [
  ['area', 'files', 'seconds', 'passed', 'failed', 'skipped'],
  ...results.map((r) => [r.area, String(r.files), r.seconds.toFixed(1), String(r.pass), r.ok ? String(r.failed) : `${r.failed} (exit ${r.exit})`, String(r.skipped)]),
  ['total', String(sum('files')), wall.toFixed(1), String(sum('pass')), String(sum('failed')), String(sum('skipped'))],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
if (fileTimes.length > 1) {
  console.log('');
  console.log('slowest test files (seconds each file\'s process ran):');
  for (const [file, seconds] of fileTimes.sort((a, b) => Number(b[1]) - Number(a[1])).slice(0, SLOWEST_SHOWN)) {
    console.log(`${Number(seconds).toFixed(1).padStart(8)}  ${relative(ROOT, file)}`);
  }
}
const failures = results.flatMap((r) => [
  ...r.failures.map((f) => ({ area: r.area, ...f })),
  // node --test ended badly with no failed test in its report (killed, crashed, a file's process exited non-zero late)
  ...(!r.ok && r.failures.length === 0 ? [{ area: r.area, name: `node --test exited with ${r.exit} and its report names no failed test; the area's output above says why`, location: '', error: '' }] : []),
]);
if (failures.length > 0) {
  console.log('');
  console.log('failed:');
  for (const f of failures) {
    const where = f.at || f.location;
    console.log(`  [${f.area}] ${f.name}${where ? `  (${relative(process.cwd(), where.replace(/^file:\/\//, ''))})` : ''}`);
    if (f.error) console.log(`      ${f.error.slice(0, 300)}`);
  }
}
console.log('');
for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
if (interrupted) console.log(`interrupted (${interrupted}): ${areas.size - results.length} area(s) not run`);
const skipped = sum('skipped');
console.log(`${sum('pass')} passed, ${sum('failed')} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(interrupted ? (interrupted === 'SIGINT' ? 130 : 143) : results.every((r) => r.ok) ? 0 : 1);

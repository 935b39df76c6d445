// Templates (issue 26): the agent renders files from secrets with a real vault and a real rotation.
// Each format is read back by the consumer's own parser — POSIX sh (`set -a; . FILE`),
// python-dotenv, JSON.parse, PyYAML — with a password made of everything that breaks naive
// quoting; files are 0600; a reader polling the file while a rotation re-renders it never sees a
// partial file; after the rotation the file holds the new value and the command ran once. A
// template's command runs after every render that changed the file — the first one included —
// and never after one that left it as it was (a restart, a rotation of a field it does not use).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { engineFixture } from '../support/engine-fixtures.js';
import type { EngineFixture } from '../support/engine-fixtures.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { randomTag } from '../support/services.js';
import { waitFor } from '../support/wait.js';

// Quotes of both kinds, $ and ${…} and a backtick (expansions), # (comments), = (separators), a
// backslash, a newline, a tab and a non-ASCII letter.
const TRICKY = `it's "q" $HOME \${PATH} \`id\` #x =y \\z\nline2\tø`;
const USERNAME = 'we"ird\'; user=#';

let fx: EngineFixture;
let h: RotationHarness;
let rotator: RunningProcess;
const started: RunningProcess[] = [];

before(async () => {
  fx = await engineFixture('redis');
  const user = `sk_tpl_${randomTag(3)}`;
  await fx.createUsers([{ username: user, password: `pw-${randomTag(10)}` }]);
  h = await startRotationHarness({ engine: 'redis', target: fx.target(user, `pw-${randomTag(10)}`), admin: fx.admin, lease: '10s' });
  jsonOf(await h.sk(['secret', 'set', 'db', 'tricky', '--fields-json', JSON.stringify({ username: USERNAME, password: TRICKY }), '--json']));
  jsonOf(await h.sk(['grant', 'add', 'app1', '--project', 'db', '--secret', 'tricky', '--json']));
  rotator = await h.startAgent();
});

after(async () => {
  for (const p of started) await p.stop('SIGKILL');
  await rotator?.stop();
  await h?.close();
  await fx?.cleanup();
});

const python = (code: string, file: string): unknown => JSON.parse(execFileSync('python3', ['-c', code, file], { encoding: 'utf8' }));
const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);

test('env, dotenv, JSON, YAML (a map and a source file) and raw round-trip a password with \' " $ # = \\ and a newline through their own parsers; every file is 0600', async () => {
  const out = (name: string): string => join(h.dir, name);
  const source = out('app.yaml.tpl');
  writeFileSync(source, 'db:\n  user: {{db/tricky#username}}\n  password: {{ db/tricky#password }}\n  port: 6379\n');
  const config = out('render-once.json');
  writeFileSync(config, JSON.stringify({
    vaultUrl: h.url, keyFile: join(h.dir, 'app.key'),
    templates: [
      { destination: out('app.env'), format: 'env', secrets: { DB_USER: 'db/tricky#username', DB_PASSWORD: 'db/tricky#password' } },
      { destination: out('app.dotenv'), format: 'dotenv', secrets: { DB_USER: 'db/tricky#username', DB_PASSWORD: 'db/tricky#password' } },
      { destination: out('app.json'), format: 'json', secrets: { user: 'db/tricky#username', 'pass word': 'db/tricky#password' } },
      { destination: out('app.yaml'), format: 'yaml', secrets: { user: 'db/tricky#username', 'pass: word': 'db/tricky#password' } },
      { destination: out('app-source.yaml'), format: 'yaml', source: 'app.yaml.tpl' },
      { destination: out('password.txt'), format: 'raw', secrets: { password: 'db/tricky#password' }, mode: '0640' },
    ],
  }));
  const r = await runBin('sikkerkey-agent', ['render', '--config', config, '--once', '--json']);
  const report = jsonOf<{ rendered: Array<{ destination: string; mode: string }> }>(r);
  assert.equal(report.rendered.length, 6);
  assert.ok(!r.stdout.includes('line2') && !r.stderr.includes('line2'), 'render printed no value');

  const sh = execFileSync('sh', ['-c', 'set -a; . "$1"; printf "%s\\0%s" "$DB_USER" "$DB_PASSWORD"', 'sh', out('app.env')], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
  assert.ok(sh === `${USERNAME}\0${TRICKY}`, 'sh reads back both values exactly');

  const dotenv = python('import sys, json; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1], interpolate=False)))', out('app.dotenv'));
  assert.ok(JSON.stringify(dotenv) === JSON.stringify({ DB_USER: USERNAME, DB_PASSWORD: TRICKY }), 'python-dotenv reads back both values exactly');

  const json = JSON.parse(readFileSync(out('app.json'), 'utf8')) as Record<string, string>;
  assert.ok(json.user === USERNAME && json['pass word'] === TRICKY, 'JSON.parse reads back both values');

  const yaml = python('import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', out('app.yaml'));
  assert.ok(JSON.stringify(yaml) === JSON.stringify({ user: USERNAME, 'pass: word': TRICKY }), 'PyYAML reads back both values and keys');
  const fromSource = python('import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', out('app-source.yaml'));
  assert.ok(JSON.stringify(fromSource) === JSON.stringify({ db: { user: USERNAME, password: TRICKY, port: 6379 } }), 'the source template\'s placeholders became YAML scalars; the rest is as written');

  assert.ok(readFileSync(out('password.txt'), 'utf8') === TRICKY, 'raw is the value, byte for byte');
  for (const f of ['app.env', 'app.dotenv', 'app.json', 'app.yaml', 'app-source.yaml']) assert.equal(mode(out(f)), '600', f);
  assert.equal(mode(out('password.txt')), '640');
});

test('a command runs after the first render of an absent file, and not when a later start renders the same content', async () => {
  const file = join(h.dir, 'once.env');
  const ran = join(h.dir, 'once-command-ran');
  const config = join(h.dir, 'render-once-command.json');
  writeFileSync(config, JSON.stringify({
    vaultUrl: h.url, keyFile: join(h.dir, 'app.key'),
    templates: [{ destination: file, format: 'env', secrets: { DB_PASSWORD: 'db/tricky#password' }, command: `echo ran >> '${ran}'` }],
  }));
  const first = await runBin('sikkerkey-agent', ['render', '--config', config, '--once']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(readFileSync(ran, 'utf8'), 'ran\n', 'the first render created the file: its command ran once');
  const second = await runBin('sikkerkey-agent', ['render', '--config', config, '--once']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /once\.env is unchanged: not rewritten, no command/);
  assert.equal(readFileSync(ran, 'utf8'), 'ran\n', 'the same content again: no command');
  writeFileSync(file, 'DB_PASSWORD=something-else\n', { mode: 0o600 });
  assert.equal((await runBin('sikkerkey-agent', ['render', '--config', config, '--once'])).code, 0);
  assert.equal(readFileSync(ran, 'utf8'), 'ran\nran\n', 'a file that held something else is rendered again, and the command runs');
});

test('a sidecar render: a reader polling the file never sees a partial one; after a rotation the file holds the new password and the command ran once more; a template of an unchanged field runs none', async () => {
  const file = join(h.dir, 'live.json');
  const ran = join(h.dir, 'command-ran');
  const userFile = join(h.dir, 'user-only.env');
  const userRan = join(h.dir, 'user-command-ran');
  const config = join(h.dir, 'render-follow.json');
  // Padding makes the file span several writes' worth of bytes, so a non-atomic write would show.
  writeFileSync(config, JSON.stringify({
    vaultUrl: h.url, keyFile: join(h.dir, 'app.key'),
    templates: [
      { destination: file, format: 'json', secrets: { password: 'db/app#password', username: 'db/app#username', all: 'db/app', tricky: 'db/tricky#password' }, command: `echo ran >> '${ran}'` },
      // The `single` strategy keeps the user name: this file's content never changes with a rotation.
      { destination: userFile, format: 'env', secrets: { DB_USER: 'db/app#username' }, command: `echo ran >> '${userRan}'` },
    ],
  }));
  const render = startBin('sikkerkey-agent', ['render', '--config', config]);
  started.push(render);
  await render.waitFor(/rendered .*live\.json/);
  const old = (await h.read()).fields.password as string;
  assert.ok((JSON.parse(readFileSync(file, 'utf8')) as { password: string }).password === old);
  await waitFor(() => existsSync(ran) && existsSync(userRan), { what: 'the first render\'s commands', timeoutMs: 10_000 });
  assert.equal(readFileSync(ran, 'utf8'), 'ran\n', 'the first render created the file: its command ran once');

  let stop = false;
  const seen = { reads: 0, old: 0, other: 0, bad: 0 };
  const passwords = new Set<string>(); // every password a read saw: checked below to be the old or the new one
  const reader = (async () => {
    while (!stop) {
      try {
        const doc = JSON.parse(readFileSync(file, 'utf8')) as { password: string; tricky: string };
        if (doc.tricky !== TRICKY) seen.bad += 1;
        else if (doc.password === old) seen.old += 1;
        else { seen.other += 1; passwords.add(doc.password); }
      } catch {
        seen.bad += 1; // missing or unparsable: what a non-atomic write would show
      }
      seen.reads += 1;
      await tick();
    }
  })();
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const next = (await h.read()).fields.password as string;
  await waitFor(() => ({ file: (JSON.parse(readFileSync(file, 'utf8')) as { password: string }).password === next, ran: readFileSync(ran, 'utf8') === 'ran\nran\n' }), {
    what: 'the re-render and its command', timeoutMs: 30_000, until: (s) => s.file && s.ran, show: (s) => JSON.stringify(s),
  });
  const afterNew = seen.other;
  await waitFor(() => seen.other > afterNew, { what: 'the reader to read the new file', timeoutMs: 30_000 });
  stop = true;
  await reader;
  console.log(`reader: ${seen.reads} reads, ${seen.old} old, ${seen.other} new, ${seen.bad} partial or missing`);
  assert.ok(seen.old > 0 && seen.other > 0, 'the reader was reading before and after the re-render');
  assert.ok(passwords.size === 1 && passwords.has(next), 'every read that was not the old file was the new one');
  assert.equal(seen.bad, 0, 'no read saw a partial, missing or mixed file');
  await render.waitFor(/user-only\.env is unchanged: not rewritten, no command/);
  assert.equal(readFileSync(ran, 'utf8'), 'ran\nran\n', 'the command ran once more after the rotation\'s re-render');
  assert.equal(readFileSync(userRan, 'utf8'), 'ran\n', 'the user-name file did not change: its command did not run again');
  assert.equal(mode(file), '600');
  assert.equal(await render.stop('SIGTERM'), 0, 'render stops cleanly on SIGTERM');
});

test('`run` renders the config\'s templates beside the rotation daemon', async () => {
  const file = join(h.dir, 'run.env');
  const config = join(h.dir, 'run-with-templates.json');
  writeFileSync(config, JSON.stringify({
    vaultUrl: h.url, keyFile: join(h.dir, 'app.key'), health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 5,
    templates: [{ destination: file, format: 'env', secrets: { DB_PASSWORD: 'db/tricky#password' } }],
  }));
  const run = startBin('sikkerkey-agent', ['run', '--config', config]);
  started.push(run);
  await run.waitFor(/agent started/);
  await run.waitFor(/rendered .*run\.env/);
  const sh = execFileSync('sh', ['-c', 'set -a; . "$1"; printf "%s" "$DB_PASSWORD"', 'sh', file], { encoding: 'utf8' });
  assert.ok(sh === TRICKY, 'the file run rendered reads back the value');
  assert.equal(mode(file), '600');
  assert.equal(await run.stop('SIGTERM'), 0, 'run stops cleanly, templates and all');
});

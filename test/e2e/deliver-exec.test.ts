// Secrets delivered to a non-Node application (issue 26): `sikkerkey-agent exec` starts a real
// child process with the values in its environment and follows a real rotation (a real vault, a
// real rotating agent, a real Redis ACL user): on the promotion the child is restarted, or — with
// a template rendered next to it — sent SIGHUP and re-reads the file. The child's exit status is
// the agent's. The child is a small script that writes what it saw into a file of the test's
// temporary directory; assertions compare without printing a value.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineFixture } from '../support/engine-fixtures.js';
import type { EngineFixture } from '../support/engine-fixtures.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { randomTag } from '../support/services.js';
import { waitFor } from '../support/wait.js';

interface Seen { what: string; pid: number; user?: string; pw?: string; file?: string | null }

const CHILD = `
const fs = require('node:fs');
const [out, file] = process.argv.slice(2);
const line = (what) => fs.appendFileSync(out, JSON.stringify({ what, pid: process.pid, user: process.env.DB_USER, pw: process.env.DB_PASSWORD,
  file: file ? fs.readFileSync(file, 'utf8') : null }) + '\\n');
line('start');
process.on('SIGTERM', () => { line('term'); process.exit(0); });
process.on('SIGHUP', () => line('hup'));
process.on('SIGUSR1', () => { line('usr1'); process.exit(7); });
setInterval(() => undefined, 1000);
`;

let fx: EngineFixture;
let h: RotationHarness;
let rotator: RunningProcess;
let childScript: string;
const started: RunningProcess[] = [];

before(async () => {
  fx = await engineFixture('redis');
  const user = `sk_exec_${randomTag(3)}`;
  const pw = `pw-${randomTag(10)}`;
  await fx.createUsers([{ username: user, password: pw }]);
  h = await startRotationHarness({ engine: 'redis', target: fx.target(user, pw), admin: fx.admin, lease: '10s' });
  rotator = await h.startAgent();
  childScript = join(h.dir, 'child.cjs');
  writeFileSync(childScript, CHILD);
});

after(async () => {
  for (const p of started) await p.stop('SIGKILL');
  await rotator?.stop();
  await h?.close();
  await fx?.cleanup();
});

const seenIn = (out: string): Seen[] => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Seen) : []);
const show = (lines: Seen[]): string => lines.map((l) => `${l.what}@${l.pid}`).join(' ');

function exec(args: string[]): RunningProcess {
  const p = startBin('sikkerkey-agent', ['exec', ...args], { env: { SIKKERKEY_URL: h.url, SIKKERKEY_AGENT_KEY_FILE: join(h.dir, 'app.key') } });
  started.push(p);
  return p;
}

async function rotate(): Promise<string> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (await h.read()).fields.password as string;
}

test('exec: the child sees the variables; after rotation run --wait it is restarted with the new value; its exit code is the agent\'s', async () => {
  const out = join(h.dir, 'restart.out');
  const before = await h.read();
  const agent = exec(['--env', 'DB_USER=db/app#username', '--env', 'DB_PASSWORD=db/app#password', '--grace', '5s', '--', process.execPath, childScript, out]);
  const first = await waitFor(() => seenIn(out), { what: 'the child to start', timeoutMs: 30_000, until: (l) => l.length >= 1, show });
  const child = first[0] as Seen;
  assert.ok(child.pw === before.fields.password, 'the child sees the live password in DB_PASSWORD');
  assert.ok(child.user === before.fields.username, 'the child sees the username in DB_USER');

  // Values only in the child's environment: not on its command line, not in the agent's own
  // environment, not in anything the agent printed.
  const pw = before.fields.password as string;
  assert.ok(!readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes(pw), 'the password is not on the child\'s command line');
  assert.ok(readFileSync(`/proc/${child.pid}/environ`, 'utf8').includes(pw), 'the check above is meaningful: the child\'s environment does hold it');
  assert.ok(!readFileSync(`/proc/${agent.proc.pid}/environ`, 'utf8').includes(pw), 'the password is not in the agent\'s environment');
  assert.ok(!readFileSync(`/proc/${agent.proc.pid}/cmdline`, 'utf8').includes(pw), 'nor on the agent\'s command line');

  const next = await rotate();
  assert.ok(next !== pw, 'the rotation changed the password');
  // 30 s: a deadline for a broken run, not a figure (the delay is what the watch benchmark measures).
  const lines = await waitFor(() => seenIn(out), {
    what: 'the restarted child to start with the new password', timeoutMs: 30_000, show,
    until: (l) => l.some((s) => s.what === 'start' && s.pid !== child.pid && s.pw === next),
  });
  assert.ok(lines.some((s) => s.what === 'term' && s.pid === child.pid), 'the old child was stopped with SIGTERM (gracefully)');
  assert.match(agent.output(), /restarted .* with the new values/);
  assert.ok(!agent.output().includes(pw) && !agent.output().includes(next), 'the agent never printed a value');

  // A signal to the agent goes to the child; the child's status (7) is the agent's.
  const restarted = lines.find((s) => s.what === 'start' && s.pw === next) as Seen;
  agent.proc.kill('SIGUSR1');
  const code = await waitFor(() => agent.proc.exitCode ?? agent.proc.signalCode, { what: 'the agent to exit', timeoutMs: 30_000, until: (c) => c !== null });
  assert.equal(code, 7);
  assert.ok(seenIn(out).some((s) => s.what === 'usr1' && s.pid === restarted.pid), 'the child received the forwarded SIGUSR1');
});

test('exec --on-change signal:HUP: the child keeps running and re-reads a template rendered before it started', async () => {
  const out = join(h.dir, 'signal.out');
  const file = join(h.dir, 'db.env');
  const config = join(h.dir, 'exec-signal.json');
  writeFileSync(config, JSON.stringify({
    vaultUrl: h.url, keyFile: join(h.dir, 'app.key'),
    templates: [{ destination: file, format: 'env', secrets: { DB_PASSWORD: 'db/app#password' }, mode: '0600' }],
  }));
  const agent = startBin('sikkerkey-agent', ['exec', '--config', config, '--on-change', 'signal:HUP', '--', process.execPath, childScript, out, file]);
  started.push(agent);
  const first = await waitFor(() => seenIn(out), { what: 'the child to start', timeoutMs: 30_000, until: (l) => l.length >= 1, show });
  const child = first[0] as Seen;
  const live = (await h.read()).fields.password as string;
  assert.ok(child.file === `DB_PASSWORD='${live}'\n`, 'the file exists, with the live password, before the child starts');
  assert.equal(child.pw, undefined, 'no variable was asked for: the child\'s environment has none');

  const next = await rotate();
  const lines = await waitFor(() => seenIn(out), {
    what: 'the child to be sent SIGHUP and read the new file', timeoutMs: 30_000, show,
    until: (l) => l.some((s) => s.what === 'hup' && s.file === `DB_PASSWORD='${next}'\n`),
  });
  assert.ok(lines.every((s) => s.pid === child.pid), 'the same child: signalled, not restarted');
  assert.equal(agent.proc.exitCode, null);
  assert.equal(await agent.stop('SIGTERM'), 0, 'SIGTERM reached the child, which exited 0, and so did the agent');
  assert.ok(seenIn(out).some((s) => s.what === 'term'));
});

test('exec refuses before starting anything: an ungranted secret, a bad --env, no command', async () => {
  const out = join(h.dir, 'never.out');
  const ungranted = exec(['--env', 'X=db/admin#password', '--', process.execPath, childScript, out]);
  assert.equal(await ungranted.stop('SIGCONT').then(() => ungranted.proc.exitCode), 1);
  assert.match(ungranted.output(), /error SK_ERR_NO_GRANT/);
  const bad = exec(['--env', 'not a var=db/app#password', '--', process.execPath, childScript, out]);
  await bad.stop('SIGCONT');
  assert.equal(bad.proc.exitCode, 2);
  assert.match(bad.output(), /error SK_ERR_USAGE: --env takes VAR=project\/secret#field/);
  assert.equal(existsSync(out), false, 'no child was started');
});

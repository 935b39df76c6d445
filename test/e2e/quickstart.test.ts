// `npm start`'s entry point (dist/scripts/quickstart.js) as a real process, as a new user runs it:
// with the machine's Redis it must print a promoted rotation of a throwaway ACL user, proven
// against Redis; this test proves it again by reading the new password as a machine and AUTHing.
// Then SIGINT: everything it started must be gone — processes, temporary directories, Redis users.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { jsonOf, runBin, startExecutable } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { parseServiceUrl, redisUrl } from '../support/services.js';
import { VaultClient } from '../../protocol/client.js';
import { WaitTimeoutError, waitFor } from '../support/wait.js';

const QUICKSTART = fileURLToPath(new URL('../../scripts/quickstart.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (at most 15 s) for the process to be gone; false if it still runs then. */
async function gone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  return waitFor(() => !alive(pid), { what: `process ${pid} to end`, timeoutMs }).catch((err: unknown) => {
    if (err instanceof WaitTimeoutError) return false;
    throw err;
  });
}

/** The exit code, waiting for the exit without sending a signal (a second signal would cut the cleanup short). */
async function exitOf(p: RunningProcess, timeoutMs = 20_000): Promise<number | null> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.proc.exitCode;
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(p.proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
}

const match = (out: string, re: RegExp): string => {
  const m = re.exec(out);
  assert.ok(m?.[1], `no ${re} in the quickstart's output:\n${out}`);
  return m[1];
};

/** What the quickstart printed about what it started, for the checks and for cleanup on failure. */
function started(out: string): { url: string; vaultPid: number; agentPid: number; vaultDir: string; workDir: string; appKey: string } {
  return {
    url: match(out, /dev vault listening on (http:\/\/\S+) /),
    vaultPid: Number(match(out, /dev vault listening on \S+ \(pid (\d+)\)/)),
    agentPid: Number(match(out, /agent running \(pid (\d+)\)/)),
    vaultDir: match(out, /embedded SQLite in (\S+),/),
    workDir: match(out, /key made locally, mode 0600: (\S+)\/agent\.key/),
    appKey: match(out, /SIKKERKEY_AGENT_KEY_FILE=(\S+)/),
  };
}

describe('npm start with the machine\'s Redis', () => {
  const r = parseServiceUrl(redisUrl());
  let qs: RunningProcess | undefined;
  let redis: Redis | undefined;
  let users: string[] = [];

  after(async () => {
    // only reached with work left over when a check above failed
    if (qs && qs.proc.exitCode === null) {
      const out = qs.output();
      await qs.stop('SIGKILL');
      for (const re of [/dev vault listening on \S+ \(pid (\d+)\)/, /agent running \(pid (\d+)\)/]) {
        const pid = Number(re.exec(out)?.[1] ?? 0);
        if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      }
      for (const re of [/embedded SQLite in (\S+),/, /key made locally, mode 0600: (\S+)\/agent\.key/]) {
        const dir = re.exec(out)?.[1];
        if (dir?.includes('sikkerkey-')) rmSync(dir, { recursive: true, force: true });
      }
    }
    if (users.length > 0) {
      redis ??= new Redis({ host: r.host, port: r.port, ...(r.password ? { username: r.username || 'default', password: r.password } : {}), maxRetriesPerRequest: 1 });
      await redis.call('ACL', 'DELUSER', ...users).catch(() => undefined);
    }
    redis?.disconnect();
  });

  test('prints a promoted rotation proven against Redis; the new password read as a machine AUTHs; SIGINT removes everything', async () => {
    const t0 = Date.now();
    qs = startExecutable(process.execPath, [QUICKSTART, '--listen', '127.0.0.1:0'], { env: { REDIS_URL: redisUrl() }, label: 'quickstart' });
    await qs.waitFor(/\[8\/8\] proved against Redis .*: old password refused \(WRONGPASS\), new password works/, 60_000);
    const out = qs.output();
    const seconds = (Date.now() - t0) / 1000;
    console.log(`# quickstart: rotation promoted and proven ${seconds.toFixed(1)} s after start`);
    assert.match(out, /\[7\/8\] rotation promoted: quickstart\/redis is at version 2 /);
    assert.match(out, /WARNING: a dev vault prints its root key/);
    for (let i = 1; i <= 8; i++) assert.match(out, new RegExp(`^\\[${i}/8\\] `, 'm'), `progress line ${i}/8`);
    const [, user, admin] = /created throwaway ACL users (\S+) \(to rotate\) and (\S+) \(its admin\)/.exec(out) ?? assert.fail('no throwaway users named');
    users = [user as string, admin as string];
    await qs.waitFor(/Ctrl-C stops/);
    const s = started(qs.output());
    assert.match(qs.output(), /^Dashboard: http:\/\/127\.0\.0\.1:\d+\/ui\/accept#token=skinv_\S+$/m);

    // The test's own proof: read as the application machine, AUTH against Redis.
    const app = new VaultClient({ url: s.url, keyFile: s.appKey });
    const read = await app.getSecret('quickstart', 'redis');
    app.close();
    assert.equal(read.version, 2);
    const password = read.fields?.password ?? assert.fail('no password field granted');
    assert.equal(out.includes(password), false, 'the new password is never printed');
    redis = new Redis({ host: r.host, port: r.port, ...(r.password ? { username: r.username || 'default', password: r.password } : {}), lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const probe = new Redis({ host: r.host, port: r.port, lazyConnect: true, protocol: 2, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await probe.connect();
    try {
      assert.equal(await probe.call('AUTH', user as string, password), 'OK');
      assert.equal(await probe.call('PING'), 'PONG');
    } finally {
      probe.disconnect();
    }
    assert.ok(alive(s.vaultPid) && alive(s.agentPid), 'the vault and the agent keep serving after the demo');

    // Ctrl-C: everything it started goes away.
    qs.proc.kill('SIGINT');
    assert.equal(await exitOf(qs), 0, qs.output().slice(-2000));
    assert.match(qs.output(), /stopped: agent and vault ended, temporary files and throwaway users removed/);
    assert.equal(await gone(s.agentPid), true, 'the agent process ended');
    assert.equal(await gone(s.vaultPid), true, 'the vault process ended');
    assert.equal(existsSync(s.vaultDir), false, 'the dev vault directory is removed');
    assert.equal(existsSync(s.workDir), false, 'the quickstart directory (keys, config, logs) is removed');
    assert.equal(await redis.call('ACL', 'GETUSER', user as string), null, 'the rotated throwaway user is deleted');
    assert.equal(await redis.call('ACL', 'GETUSER', admin as string), null, 'the throwaway admin is deleted');
    await assert.rejects(fetch(`${s.url}/healthz`), 'nothing listens on the vault\'s port any more');
    users = [];
  });
});

describe('npm start without a database', () => {
  let qs: RunningProcess | undefined;
  after(async () => {
    if (qs && qs.proc.exitCode === null) await qs.stop('SIGKILL');
  });

  test('shows a signed read and a canary trip, keeps serving, and cleans up on SIGTERM', async () => {
    qs = startExecutable(process.execPath, [QUICKSTART, '--listen', '127.0.0.1:0', '--no-database'], { label: 'quickstart' });
    await qs.waitFor(/Ctrl-C stops/, 60_000);
    const out = qs.output();
    assert.match(out, /\[6\/7\] signed read: machine quickstart-app read quickstart\/greeting = "hello from the vault"/);
    assert.match(out, /\[7\/7\] canary tripped: quickstart-app read quickstart\/backup-admin; the vault locked project quickstart.*refused its next read \(SK_ERR_[A-Z_]+\)/);
    const s = started(out);
    // The dashboard line: a one-time invitation URL for one more key of the dev operator.
    const dashboard = match(out, /^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/ui\/accept#token=skinv_\S+)$/m);
    assert.match(out, /^Dashboard: \S+\n {2}a one-time link .*https.*localhost/m, 'one line says it is one-time and needs https or localhost');
    const accepted = jsonOf<{ operator: { name: string; role: string }; keyId: string }>(await runBin('sikkerkey', ['operator', 'accept', '--url', dashboard, '--key-file', `${s.workDir}/browser-1.key`, '--label', 'browser', '--json']));
    assert.deepEqual([accepted.operator.name, accepted.operator.role], ['dev', 'owner']);
    const again = await runBin('sikkerkey', ['operator', 'accept', '--url', dashboard, '--key-file', `${s.workDir}/browser-2.key`, '--json']);
    assert.notEqual(again.code, 0, 'the invitation is accepted once only');
    assert.match(again.stderr + again.stdout, /SK_ERR_INVITATION_INVALID/);
    // the demo undid the lock: the application reads again
    const app = new VaultClient({ url: s.url, keyFile: s.appKey });
    assert.equal((await app.getSecret('quickstart', 'greeting')).value, 'hello from the vault');
    app.close();
    qs.proc.kill('SIGTERM');
    assert.equal(await exitOf(qs), 0, qs.output().slice(-2000));
    assert.equal(await gone(s.agentPid), true);
    assert.equal(await gone(s.vaultPid), true);
    assert.equal(existsSync(s.vaultDir) || existsSync(s.workDir), false);
  });
});

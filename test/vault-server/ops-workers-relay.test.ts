// The pieces `serve --workers N` shares between processes, in one process: the failure budget
// kept by the primary and mirrored by workers, and the wake-up relay (over a fake IPC channel, and
// over PostgreSQL LISTEN/NOTIFY with a plain client standing for another process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { BudgetAuthority, MirroredBudget } from '../../vault-server/cluster/shared-budget.js';
import type { AuthFailureMessage } from '../../vault-server/cluster/shared-budget.js';
import { EVENTS_CHANNEL, startWakeupRelay } from '../../vault-server/cluster/wakeups.js';
import { rotationEvents } from '../../vault-server/modules/rotations/rotations-engine.js';
import { secretEvents } from '../../vault-server/modules/secrets/secret-watch.js';
import { leaseEvents } from '../../vault-server/modules/leases/leases-service.js';
import { createLogger } from '../../vault-server/logging.js';
import { tempPgDatabase } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

test('failures counted by two workers spend the address for both; the primary announces once per window', () => {
  let now = 1_000_000;
  const clock = (): number => now;
  const authority = new BudgetAuthority(clock);
  const announced: unknown[] = [];
  const workers: MirroredBudget[] = [];
  const report = (m: AuthFailureMessage): void => {
    const spent = authority.failure(m.key);
    if (spent) { announced.push(spent); for (const w of workers) w.onMessage(spent); }
  };
  workers.push(new MirroredBudget(clock, report), new MirroredBudget(clock, report));
  const [a, b] = workers as [MirroredBudget, MirroredBudget];
  for (let i = 0; i < 10; i++) { a.fail('ip:10.0.0.9'); b.fail('ip:10.0.0.9'); }
  assert.equal(a.retryAfter('ip:10.0.0.9'), 60);
  assert.equal(b.retryAfter('ip:10.0.0.9'), 60);
  assert.equal(a.retryAfter('ip:10.0.0.10'), 0, 'another address is not affected');
  a.fail('ip:10.0.0.9');
  assert.equal(announced.length, 1, 'announced once while spent');
  now += 30_000;
  assert.equal(b.retryAfter('ip:10.0.0.9'), 30);
  now += 30_000;
  assert.equal(b.retryAfter('ip:10.0.0.9'), 0, 'the window ran out');
  assert.equal(a.onMessage({ sk: 'wakeup', e: 'secret.changed' }), false);
});

test('IPC relay: local events go out, relayed ones are emitted here and not sent on again', async () => {
  const sent: unknown[] = [];
  const channel = Object.assign(new EventEmitter(), { send: (m: unknown): boolean => { sent.push(m); return true; } });
  const relay = await startWakeupRelay({ ipc: channel, log: createLogger({ level: 'silent' }) });
  try {
    rotationEvents.emit('work', { rotationId: 'rot-1', agentMachineId: 'm-1', agentLabel: null, notBefore: null });
    rotationEvents.emit('finished', 'rot-2', { project: 'p', secret: 's' });
    secretEvents.emit('changed');
    leaseEvents.emit('lease', 'lease-1');
    leaseEvents.emit('job', 'job-1');
    // The arguments travel as they are: the receiving process wakes only the polls they concern.
    assert.deepEqual(sent, [
      { sk: 'wakeup', e: 'rotation.work', args: [{ rotationId: 'rot-1', agentMachineId: 'm-1', agentLabel: null, notBefore: null }] },
      { sk: 'wakeup', e: 'rotation.finished', args: ['rot-2', { project: 'p', secret: 's' }] },
      { sk: 'wakeup', e: 'secret.changed' },
      { sk: 'wakeup', e: 'lease.lease', args: ['lease-1'] },
      { sk: 'wakeup', e: 'lease.job', args: ['job-1'] },
    ]);
    const leasesHeard: unknown[] = [];
    const onLease = (id: unknown): void => { leasesHeard.push(id); };
    leaseEvents.on('lease', onLease);
    channel.emit('message', { sk: 'wakeup', e: 'lease.lease', args: ['lease-2'] });
    leaseEvents.off('lease', onLease);
    assert.deepEqual(leasesHeard, ['lease-2'], 'a lease held in this worker wakes on a confirm another worker took');
    const heard: unknown[] = [];
    const onFinished = (id: unknown, which: unknown): void => { heard.push([id, which]); };
    rotationEvents.on('finished', onFinished);
    channel.emit('message', { sk: 'wakeup', e: 'rotation.finished', args: ['rot-3', { project: 'p', secret: 's' }] });
    channel.emit('message', { sk: 'wakeup', e: 'no.such' });
    channel.emit('message', { sk: 'budget-spent', key: 'ip:x', until: 1 });
    rotationEvents.off('finished', onFinished);
    assert.deepEqual(heard, [['rot-3', { project: 'p', secret: 's' }]]);
    assert.equal(sent.length, 5, 'a relayed event is not sent back');
  } finally {
    await relay.close();
  }
  secretEvents.emit('changed');
  assert.equal(sent.length, 5, 'closed: nothing more is sent');
});

test('PostgreSQL relay: a local event is a NOTIFY on sikkerkey_events; another process\'s NOTIFY is emitted here', async () => {
  const db = await tempPgDatabase();
  const other = new pg.Client({ connectionString: db.location.databaseUrl });
  await other.connect();
  const relay = await startWakeupRelay({ databaseUrl: db.location.databaseUrl, log: createLogger({ level: 'silent' }) });
  try {
    const notes: string[] = [];
    other.on('notification', (n) => { if (n.payload !== undefined) notes.push(n.payload); });
    await other.query(`LISTEN ${EVENTS_CHANNEL}`);
    rotationEvents.emit('work', { rotationId: 'rot-9', agentMachineId: null, agentLabel: 'db', notBefore: null });
    await waitFor(() => notes.length, { what: 'the NOTIFY', timeoutMs: 5000, intervalMs: 20 });
    assert.deepEqual((({ o: _o, ...rest }) => rest)(JSON.parse(notes[0] as string) as Record<string, unknown>), { sk: 'wakeup', e: 'rotation.work', args: [{ rotationId: 'rot-9', agentMachineId: null, agentLabel: 'db', notBefore: null }] });

    let changed = 0;
    const onChanged = (): void => { changed += 1; };
    secretEvents.on('changed', onChanged);
    try {
      await other.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, JSON.stringify({ o: 'another-process', sk: 'wakeup', e: 'secret.changed' })]);
      await waitFor(() => changed, { what: 'the relayed secret change', timeoutMs: 5000, intervalMs: 20 });
      // Its own notification (same origin) is not emitted a second time.
      await other.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, 'not json']);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(changed, 1);
      assert.equal(notes.length, 3, 'the relayed event was not notified again (1 own + the 2 sent here)');
    } finally {
      secretEvents.off('changed', onChanged);
    }
  } finally {
    await relay.close();
    await other.end();
    await db.remove();
  }
});

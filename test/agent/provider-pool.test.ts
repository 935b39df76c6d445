// The agent's pool of initialized providers: jobs running side by side for one database each find
// a kept one (up to `perKey`, the agent's concurrency), one more is closed, a job that did not end
// cleanly closes its provider, an idle one is closed after `idleMs`, and a kept one whose admin
// connection closed meanwhile is closed instead of lent. The providers here are stand-ins that only
// count close() and answer isConnected() — the pool never touches a database itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderPool } from '../../agent/runtime/provider-pool.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';

const init = { serverVersion: 'stand-in 1' } as InitializeResponse;

function standIn(name: string, closed: string[]): CredentialProvider {
  return { close: async () => { closed.push(name); } } as unknown as CredentialProvider;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('provider pool (stand-in providers): keeps up to perKey per database, lends the last one given, closes the rest', async () => {
  const closed: string[] = [];
  const pool = new ProviderPool(60_000, 2);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => standIn(n, closed)) as [CredentialProvider, CredentialProvider, CredentialProvider];
  pool.give('db1', a, init, true);
  pool.give('db1', b, init, true);
  pool.give('db1', c, init, true);
  await sleep(0);
  assert.deepEqual(closed, ['c'], 'a third provider for one database is closed, two are kept');
  assert.equal(pool.size(), 2);
  assert.equal(pool.take('db2'), undefined, 'nothing kept for another database');
  assert.equal(pool.take('db1')?.provider, b, 'the one given last is lent first');
  assert.equal(pool.take('db1')?.provider, a);
  assert.equal(pool.take('db1'), undefined);
  pool.give('db1', a, init, false);
  pool.give('db1', b, undefined, true);
  await sleep(0);
  assert.deepEqual(closed, ['c', 'a', 'b'], 'a job that failed, or a provider that never initialized, is not kept');
  assert.equal(pool.size(), 0);
  await pool.closeAll();
});

test('provider pool (stand-in providers): an idle provider is closed after idleMs; closeAll closes what is kept', async () => {
  const closed: string[] = [];
  const pool = new ProviderPool(50, 4);
  pool.give('db1', standIn('x', closed), init, true);
  pool.give('db1', standIn('y', closed), init, true);
  pool.give('db2', standIn('z', closed), init, true);
  assert.equal(pool.size(), 3);
  await sleep(200);
  assert.deepEqual(closed.sort(), ['x', 'y', 'z'], 'each idle provider closed after idleMs');
  assert.equal(pool.size(), 0);
  assert.equal(pool.take('db1'), undefined);
  pool.give('db3', standIn('w', closed), init, true);
  await pool.closeAll();
  assert.equal(closed.includes('w'), true);
  assert.equal(pool.size(), 0);
});

test('provider pool (stand-in providers): a kept provider whose admin connection closed is closed, not lent; the next kept one is lent', async () => {
  const closed: string[] = [];
  const pool = new ProviderPool(60_000, 3);
  const connected = new Map<string, boolean>([['old', true], ['gone', false]]);
  const withState = (name: string): CredentialProvider =>
    ({ ...standIn(name, closed), isConnected: () => connected.get(name) ?? true }) as CredentialProvider;
  const [plain, old, gone] = [standIn('plain', closed), withState('old'), withState('gone')];
  pool.give('db1', plain, init, true);
  pool.give('db1', old, init, true);
  pool.give('db1', gone, init, true);
  assert.equal(pool.take('db1')?.provider, old, 'the last one given reports not connected: the one before it is lent');
  await sleep(0);
  assert.deepEqual(closed, ['gone'], 'the one not connected is closed');
  assert.equal(pool.size(), 1);
  connected.set('old', false);
  pool.give('db1', old, init, true);
  assert.equal(pool.take('db1')?.provider, plain, 'a provider without isConnected is lent as before');
  await sleep(0);
  assert.deepEqual(closed, ['gone', 'old']);
  assert.equal(pool.size(), 0);
  pool.give('db2', withState('gone'), init, true);
  assert.equal(pool.take('db2'), undefined, 'nothing is lent when every kept one lost its connection');
  await sleep(0);
  assert.deepEqual(closed, ['gone', 'old', 'gone']);
  await pool.closeAll();
});

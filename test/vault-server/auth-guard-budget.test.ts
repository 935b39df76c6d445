// The per-address failure budget under many source addresses: the map of windows stays bounded
// and a new address costs no scan of it; IPv6 is counted per /64, IPv4 per address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { budgetKey, FailureBudget, installAuthGuard, matchesCidr, MAX_BUDGET_KEYS, parseCidrList } from '../../vault-server/http/auth-guard.js';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { BudgetLike } from '../../vault-server/http/auth-guard.js';
import { BudgetAuthority, MirroredBudget } from '../../vault-server/cluster/shared-budget.js';

const WINDOW_MS = 60_000;

/** Counts the entries every iteration of `map` steps over: a scan shows up as the map's size. */
function countSteps(map: Map<string, unknown>): { steps: number } {
  const seen = { steps: 0 };
  const counted = <T>(it: IterableIterator<T>): IterableIterator<T> => {
    const wrapped: IterableIterator<T> = {
      next: () => {
        const r = it.next();
        if (!r.done) seen.steps += 1;
        return r;
      },
      [Symbol.iterator]: () => wrapped,
    };
    return wrapped;
  };
  const entries = map.entries.bind(map);
  const keys = map.keys.bind(map);
  const values = map.values.bind(map);
  Object.assign(map, {
    entries: () => counted(entries()),
    [Symbol.iterator]: () => counted(entries()),
    keys: () => counted(keys()),
    values: () => counted(values()),
  });
  return seen;
}

function windowsOf(budget: FailureBudget): Map<string, unknown> {
  return (budget as unknown as { windows: { entries: Map<string, unknown> } }).windows.entries;
}

test('past the cap the oldest window is evicted (that address starts over); the map stays at the cap', () => {
  let now = 1_000_000;
  const budget = new FailureBudget({ limit: 3, windowMs: WINDOW_MS, now: () => now, maxKeys: 1000 });
  for (let i = 0; i < 3; i++) budget.fail('ip:10.0.0.1');
  assert.equal(budget.retryAfter('ip:10.0.0.1'), 60);
  for (let i = 0; i < 5000; i++) {
    now += 1;
    budget.fail(`ip:10.1.${i >> 8}.${i & 255}`);
    assert.ok(budget.size <= 1000, `${budget.size} keys after ${i + 1} new addresses`);
  }
  assert.equal(budget.size, 1000);
  assert.equal(budget.retryAfter('ip:10.0.0.1'), 0, 'evicted: a fresh budget');
  // The newest 1000 are the ones kept.
  for (let i = 0; i < 3; i++) budget.fail('ip:10.1.19.135');
  assert.equal(budget.retryAfter('ip:10.1.19.135'), 60);
  assert.equal(budget.size, 1000);
});

test('a window that restarts moves to the back: an address failing again is evicted last', () => {
  let now = 1_000_000;
  const budget = new FailureBudget({ limit: 2, windowMs: WINDOW_MS, now: () => now, maxKeys: 3 });
  budget.fail('ip:10.0.0.1');
  now += WINDOW_MS / 2;
  budget.fail('ip:10.0.0.2');
  budget.fail('ip:10.0.0.2');
  budget.fail('ip:10.0.0.3');
  now += WINDOW_MS / 2;
  // 10.0.0.1's window ran out: it starts a new one, now the newest, and spends it
  budget.fail('ip:10.0.0.1');
  budget.fail('ip:10.0.0.1');
  budget.fail('ip:10.0.0.4');
  assert.equal(budget.size, 3);
  assert.equal(budget.retryAfter('ip:10.0.0.1'), 60, 'kept: its window is the newest');
  assert.equal(budget.retryAfter('ip:10.0.0.2'), 0, 'evicted: the oldest window, spent or not');
});

test('with the default cap full of live windows, a new address does not scan them', () => {
  let now = 1_000_000;
  const budget = new FailureBudget({ limit: 20, windowMs: WINDOW_MS, now: () => now });
  for (let i = 0; i <= MAX_BUDGET_KEYS; i++) budget.fail(`ip:a${i}`);
  assert.ok(budget.size <= MAX_BUDGET_KEYS);
  const seen = countSteps(windowsOf(budget));
  for (let i = 0; i < 100; i++) {
    now += 10;
    budget.fail(`ip:b${i}`);
  }
  // one eviction per new address (and no full prune: nothing expired, not a window since the last)
  assert.ok(seen.steps <= 200, `${seen.steps} entries stepped over for 100 new addresses`);
  assert.ok(budget.size <= MAX_BUDGET_KEYS);
});

test('expired windows are pruned once a window, not on every new address', () => {
  let now = 1_000_000;
  const budget = new FailureBudget({ limit: 20, windowMs: WINDOW_MS, now: () => now, maxKeys: 10_000 });
  for (let i = 0; i < 5000; i++) budget.fail(`ip:a${i}`);
  now += WINDOW_MS;
  const seen = countSteps(windowsOf(budget));
  budget.fail('ip:b0');
  assert.equal(budget.size, 1, 'the expired ones are gone');
  const afterPrune = seen.steps;
  assert.ok(afterPrune >= 5000 && afterPrune <= 5001, `one scan: ${afterPrune}`);
  for (let i = 1; i < 5000; i++) budget.fail(`ip:b${i}`);
  assert.equal(seen.steps, afterPrune, 'no scan until a window has passed');
  now += WINDOW_MS;
  budget.fail('ip:c0');
  assert.equal(budget.size, 1);
});

test('a spent budget answers retryAfter until its window ends; failures by one address leave another alone', () => {
  let now = 1_000_000;
  const budget = new FailureBudget({ limit: 3, windowMs: WINDOW_MS, now: () => now });
  budget.fail('ip:10.0.0.9');
  budget.fail('ip:10.0.0.9');
  assert.equal(budget.retryAfter('ip:10.0.0.9'), 0, 'not yet spent');
  budget.fail('ip:10.0.0.9');
  assert.equal(budget.retryAfter('ip:10.0.0.9'), 60);
  assert.equal(budget.retryAfter('ip:10.0.0.10'), 0);
  now += 45_500;
  assert.equal(budget.retryAfter('ip:10.0.0.9'), 15);
  now += 14_500;
  assert.equal(budget.retryAfter('ip:10.0.0.9'), 0, 'the window ran out');
  budget.fail('ip:10.0.0.9');
  assert.equal(budget.retryAfter('ip:10.0.0.9'), 0, 'a new window, one failure');
});

test('budget keys: IPv6 by /64 (any spelling), IPv4 and IPv4-mapped IPv6 per address', () => {
  for (const [ip, key] of [
    ['2001:db8:1:2::1', 'ip:2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', 'ip:2001:db8:1:2::/64'],
    ['2001:db8::1', 'ip:2001:db8:0:0::/64'],
    ['2001:db8::1:2:3:4', 'ip:2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::', 'ip:2001:db8:0:0::/64'],
    ['1:2:3:4:5:6:7:8', 'ip:1:2:3:4::/64'],
    ['1:2:3::4:5:6:7', 'ip:1:2:3:0::/64'],
    ['1:2:3:4:5:6:1.2.3.4', 'ip:1:2:3:4::/64'],
    ['1:2:3:4::1.2.3.4', 'ip:1:2:3:4::/64'],
    ['::1', 'ip:0:0:0:0::/64'],
    ['::', 'ip:0:0:0:0::/64'],
    ['fe80::1%eth0', 'ip:fe80:0:0:0::/64'],
    ['::ffff:192.0.2.7', 'ip:::ffff:192.0.2.7'],
    ['::FFFF:192.0.2.7', 'ip:::ffff:192.0.2.7'],
    ['0:0:0:0:0:ffff:c000:207', 'ip:::ffff:192.0.2.7'],
    ['192.0.2.7', 'ip:192.0.2.7'],
    ['not-an-address', 'ip:not-an-address'],
  ] as const) {
    assert.equal(budgetKey(ip), key, ip);
  }
});

/** The guard of a bare app, over `budget`, with a failure limit of 3. */
function guardOver(budget?: BudgetLike): ReturnType<typeof installAuthGuard> {
  return installAuthGuard(Fastify(), { failureLimit: 3, now: () => 1_000_000, ...(budget ? { budget } : {}) });
}

test('the guard: two IPv6 addresses in one /64 share a budget; other /64s and IPv4 addresses do not', () => {
  const guard = guardOver();
  for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:abcd::9']) guard.recordFailure(ip);
  assert.equal(guard.retryAfter('2001:db8:1:2::1'), 60);
  assert.equal(guard.retryAfter('2001:db8:1:2:ffff:ffff:ffff:fffe'), 60, 'any address of that /64');
  assert.equal(guard.retryAfter('2001:db8:1:3::1'), 0, 'the next /64');
  for (const ip of ['192.0.2.1', '192.0.2.2', '::ffff:192.0.2.3']) guard.recordFailure(ip);
  for (const ip of ['192.0.2.1', '192.0.2.2', '::ffff:192.0.2.3', '::ffff:192.0.2.4']) assert.equal(guard.retryAfter(ip), 0, ip);
  guard.recordFailure('::ffff:192.0.2.3');
  guard.recordFailure('::ffff:192.0.2.3');
  assert.equal(guard.retryAfter('::ffff:192.0.2.3'), 60);
  assert.equal(guard.retryAfter('::ffff:192.0.2.4'), 0, 'IPv4 on a dual-stack socket: per address');
});

test('the guard over a worker\'s mirrored budget: the primary counts a /64 as one key', () => {
  const now = (): number => 1_000_000;
  const authority = new BudgetAuthority(now);
  const keys: string[] = [];
  const worker = new MirroredBudget(now, (m) => {
    keys.push(m.key);
    const spent = authority.failure(m.key);
    if (spent) worker.onMessage(spent);
  });
  const guard = installAuthGuard(Fastify(), { budget: worker });
  for (let i = 1; i <= 20; i++) guard.recordFailure(`2001:db8:7:7::${i.toString(16)}`);
  assert.deepEqual(new Set(keys), new Set(['ip:2001:db8:7:7::/64']));
  assert.equal(guard.retryAfter('2001:db8:7:7::ffff'), 60);
  assert.equal(guard.retryAfter('2001:db8:7:8::1'), 0);
});

test('shared budget: the primary\'s and a worker\'s maps stay at the cap under many addresses', () => {
  let now = 1_000_000;
  const clock = (): number => now;
  const authority = new BudgetAuthority(clock, 500);
  const worker = new MirroredBudget(clock, () => undefined, 500);
  let announcements = 0;
  for (let i = 0; i < 2000; i++) {
    now += 1;
    const key = `ip:10.2.${i >> 8}.${i & 255}`;
    for (let f = 0; f < 20; f++) {
      worker.fail(key);
      const spent = authority.failure(key);
      if (spent) { announcements += 1; worker.onMessage(spent); }
    }
    assert.ok(authority.size.counted <= 500 && authority.size.announced <= 500, JSON.stringify(authority.size));
    assert.ok(worker.size.counted <= 500 && worker.size.spent <= 500, JSON.stringify(worker.size));
  }
  assert.equal(announcements, 2000, 'each address announced once');
  assert.deepEqual(authority.size, { counted: 500, announced: 500 });
  assert.deepEqual(worker.size, { counted: 500, spent: 500 });
  // The newest are kept: still spent in the worker.
  assert.equal(worker.retryAfter('ip:10.2.7.207'), 60);
  // Past the window the expired ones go at the next new key.
  now += WINDOW_MS;
  worker.onMessage({ sk: 'budget-spent', key: 'ip:10.3.0.1', until: now + 30_000 });
  assert.equal(worker.size.spent, 1);
});

test('CIDR lists: a prefix is digits only — "10.0.0.0/" is refused, not read as /0 (every address)', () => {
  for (const bad of ['10.0.0.0/', '10.0.0.0/ ', '10.0.0.0/8/9', '10.0.0.0/0x8', '2001:db8::/']) {
    assert.throws(() => parseCidrList([bad], '--source-cidr'), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_CONFIG', bad);
  }
  const list = parseCidrList(['10.0.0.0/8', '192.0.2.7'], '--source-cidr');
  assert.equal(matchesCidr(list, '10.1.2.3'), true);
  assert.equal(matchesCidr(list, '11.0.0.1'), false);
  assert.equal(matchesCidr(list, '192.0.2.7'), true);
});

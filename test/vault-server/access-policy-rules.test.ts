// The access-policy evaluator with an injected clock (a faked server clock would break signature
// times, so daylight-saving cases are tested here, on the evaluator itself): time windows across
// DST changes in Europe/Oslo and America/New_York, ttl boundaries, IPv4/IPv6/mapped addresses, and
// the Retry-After arithmetic of sliding windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyRow, refusedAxis, secondsUntilRoom, staticRefusal } from '../../vault-server/modules/access-policies/access-policy-rules.js';
import type { PolicyRow } from '../../vault-server/modules/access-policies/access-policy-rules.js';

const row = (over: Partial<PolicyRow>): PolicyRow => ({
  id: 'id', name: 'p', time_window: null, ip_allowlist: null, max_reads_per_minute: null, max_reads_per_day: null,
  cosign_window_ms: null, cosign_machine_id: null, expires_at: null, max_reads: null, rotate_after_reads: null, ...over,
});

/** The refused axis at `iso` from `ip`, or 'allowed'. */
function verdict(r: PolicyRow, iso: string, ip = '10.0.0.1'): string {
  const refusal = staticRefusal(parsePolicyRow(r), { ip, nowMs: Date.parse(iso) });
  return refusal ? (refusedAxis(refusal) ?? refusal.code) : 'allowed';
}

test('Mon-Fri 08:00-18:00 Europe/Oslo follows local time on both sides of the spring and autumn changes', () => {
  const r = row({ time_window: 'Mon-Fri 08:00-18:00 Europe/Oslo' });
  // Friday before the change (CET, UTC+1).
  assert.equal(verdict(r, '2024-03-29T06:30:00Z'), 'timeWindow'); // 07:30 local
  assert.equal(verdict(r, '2024-03-29T07:30:00Z'), 'allowed'); // 08:30 local
  // Monday after it (CEST, UTC+2): the same UTC instant is an hour later locally.
  assert.equal(verdict(r, '2024-04-01T05:30:00Z'), 'timeWindow'); // 07:30 local
  assert.equal(verdict(r, '2024-04-01T06:30:00Z'), 'allowed'); // 08:30 local
  assert.equal(verdict(r, '2024-04-01T15:59:00Z'), 'allowed'); // 17:59 local
  assert.equal(verdict(r, '2024-04-01T16:00:00Z'), 'timeWindow'); // 18:00 local: the end is exclusive
  // Monday after the autumn change (CET again).
  assert.equal(verdict(r, '2024-10-28T06:30:00Z'), 'timeWindow'); // 07:30 local
  assert.equal(verdict(r, '2024-10-28T07:30:00Z'), 'allowed'); // 08:30 local
  // Saturday is not in Mon-Fri whatever the hour.
  assert.equal(verdict(r, '2024-03-30T10:00:00Z'), 'timeWindow');
});

test('the skipped spring hour never opens a window inside it; the repeated autumn hour opens it twice', () => {
  const r = row({ time_window: '02:00-03:00 Europe/Oslo' });
  assert.equal(verdict(r, '2024-03-31T00:59:00Z'), 'timeWindow'); // 01:59 CET
  assert.equal(verdict(r, '2024-03-31T01:00:00Z'), 'timeWindow'); // 03:00 CEST: 02:00-02:59 did not exist
  assert.equal(verdict(r, '2024-10-27T00:30:00Z'), 'allowed'); // 02:30 CEST
  assert.equal(verdict(r, '2024-10-27T01:30:00Z'), 'allowed'); // 02:30 CET, the second time
  assert.equal(verdict(r, '2024-10-27T02:30:00Z'), 'timeWindow'); // 03:30 CET
});

test('a window across midnight on the night of a change belongs to the day it starts on', () => {
  const r = row({ time_window: 'Sat 22:00-06:00 Europe/Oslo' });
  assert.equal(verdict(r, '2024-03-30T21:30:00Z'), 'allowed'); // Sat 22:30 CET
  assert.equal(verdict(r, '2024-03-31T03:30:00Z'), 'allowed'); // Sun 05:30 CEST
  assert.equal(verdict(r, '2024-03-31T04:30:00Z'), 'timeWindow'); // Sun 06:30 CEST
  assert.equal(verdict(r, '2024-03-31T21:30:00Z'), 'timeWindow'); // Sun 23:30: Sunday is not a start day
});

test('America/New_York: 09:00-17:00 is 14:00Z before the March change and 13:00Z after it', () => {
  const r = row({ time_window: '09:00-17:00 America/New_York' });
  assert.equal(verdict(r, '2024-03-08T13:30:00Z'), 'timeWindow'); // 08:30 EST
  assert.equal(verdict(r, '2024-03-08T14:30:00Z'), 'allowed'); // 09:30 EST
  assert.equal(verdict(r, '2024-03-11T13:30:00Z'), 'allowed'); // 09:30 EDT
  assert.equal(verdict(r, '2024-03-11T21:30:00Z'), 'timeWindow'); // 17:30 EDT
});

test('ttl.expiresAt refuses from that millisecond on, and before the time window or network is asked', () => {
  const at = Date.parse('2030-01-01T00:00:00Z');
  const r = row({ expires_at: at, ip_allowlist: JSON.stringify(['192.0.2.0/24']) });
  assert.equal(verdict(r, '2029-12-31T23:59:59.999Z', '192.0.2.7'), 'allowed');
  assert.equal(verdict(r, '2030-01-01T00:00:00.000Z', '192.0.2.7'), 'ttl');
  assert.equal(verdict(r, '2030-01-01T00:00:00.000Z', '198.51.100.1'), 'ttl');
});

test('ipAllowlist: IPv4, IPv6 and an IPv4 client seen as ::ffff:a.b.c.d', () => {
  const r = row({ ip_allowlist: JSON.stringify(['10.0.0.0/8', '2001:db8::/32']) });
  const now = '2024-01-01T00:00:00Z';
  assert.equal(verdict(r, now, '10.255.0.1'), 'allowed');
  assert.equal(verdict(r, now, '::ffff:10.1.2.3'), 'allowed');
  assert.equal(verdict(r, now, '2001:db8:1::1'), 'allowed');
  assert.equal(verdict(r, now, '11.0.0.1'), 'ipAllowlist');
  assert.equal(verdict(r, now, '::ffff:11.0.0.1'), 'ipAllowlist');
  assert.equal(verdict(r, now, '2001:db9::1'), 'ipAllowlist');
  assert.equal(verdict(r, now, 'not-an-address'), 'ipAllowlist');
});

test('a stored rule this vault cannot read fails closed', () => {
  assert.throws(() => parsePolicyRow(row({ time_window: 'whenever' })), { code: 'SK_ERR_CONSTRAINT_UNKNOWN' });
  assert.throws(() => parsePolicyRow(row({ ip_allowlist: '{"not":"a list"}' })), { code: 'SK_ERR_CONSTRAINT_UNKNOWN' });
});

test('only the counted axes make a read take the counter row', () => {
  assert.equal(parsePolicyRow(row({ time_window: '08:00-18:00 UTC' })).counted, false);
  assert.equal(parsePolicyRow(row({ expires_at: 1 })).counted, false);
  for (const over of [{ max_reads: 1 }, { max_reads_per_minute: 1 }, { max_reads_per_day: 1 }, { cosign_window_ms: 1000 }, { rotate_after_reads: 1 }]) {
    assert.equal(parsePolicyRow(row(over)).counted, true, JSON.stringify(over));
  }
});

test('Retry-After: seconds until the read that must leave the window has left, at least 1', () => {
  const now = 1_000_000;
  // Three reads in the last minute, cap 3: the oldest (40 s ago) leaves in 20 s.
  assert.equal(secondsUntilRoom([now - 40_000, now - 10_000, now - 1_000], 3, 60_000, now), 20);
  // Cap lowered to 2 with three counted: the second oldest must leave too (50 s).
  assert.equal(secondsUntilRoom([now - 40_000, now - 10_000, now - 1_000], 2, 60_000, now), 50);
  assert.equal(secondsUntilRoom([now - 59_999], 1, 60_000, now), 1);
  assert.equal(secondsUntilRoom([now - 1_000], 1, 86_400_000, now), 86_399);
});

// Temp-bootstrap guardrails: IANA time-of-day windows (injected clock), ISO-3166 country
// allowlists (a MaxMind database built for the test), IP allowlists — enforced at registration and
// on every request of the minted machine — and constraints the server does not know, which fail closed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { buildGeoIpDb } from '../support/geoip-db.js';
import { codeOf, createToken, enroll, messageOf } from '../support/enrollment.js';
import { isInsideWindow, parseTimeWindow } from '../../vault-server/modules/machines/machine-time-window.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { openGeoIp } from '../../vault-server/modules/machines/machine-geoip.js';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
/** 2024-03-04 is a Monday; Oslo is UTC+1 until the end of March, UTC+2 in summer. */
const at = (iso) => Date.parse(iso);
const ruleOf = (res) => res.body.error?.rule;
describe('time windows', () => {
    test('a weekday window in Europe/Oslo follows local time, daylight saving included', () => {
        const w = parseTimeWindow('Mon-Fri 08:00-18:00 Europe/Oslo');
        assert.equal(isInsideWindow(w, at('2024-03-04T07:00:00Z')), true, 'Monday 08:00 Oslo: start is inclusive');
        assert.equal(isInsideWindow(w, at('2024-03-04T06:59:00Z')), false);
        assert.equal(isInsideWindow(w, at('2024-03-04T16:59:00Z')), true);
        assert.equal(isInsideWindow(w, at('2024-03-04T17:00:00Z')), false, 'Monday 18:00 Oslo: end is exclusive');
        assert.equal(isInsideWindow(w, at('2024-03-09T10:00:00Z')), false, 'Saturday');
        assert.equal(isInsideWindow(w, at('2024-07-01T06:00:00Z')), true, 'summer: 08:00 Oslo is 06:00 UTC');
        assert.equal(isInsideWindow(w, at('2024-07-01T05:59:00Z')), false);
    });
    test('a window crossing midnight belongs to the day it starts on', () => {
        const w = parseTimeWindow('Fri 22:00-06:00 UTC');
        assert.equal(isInsideWindow(w, at('2024-03-08T23:00:00Z')), true, 'Friday night');
        assert.equal(isInsideWindow(w, at('2024-03-09T05:59:00Z')), true, 'early Saturday, still Friday\'s window');
        assert.equal(isInsideWindow(w, at('2024-03-09T06:00:00Z')), false);
        assert.equal(isInsideWindow(w, at('2024-03-09T22:30:00Z')), false, 'Saturday night is not Friday');
        assert.equal(isInsideWindow(w, at('2024-03-08T05:00:00Z')), false, 'early Friday belongs to Thursday');
        const everyNight = parseTimeWindow('22:00-06:00 UTC');
        assert.equal(isInsideWindow(everyNight, at('2024-03-05T03:00:00Z')), true);
        assert.equal(isInsideWindow(everyNight, at('2024-03-05T12:00:00Z')), false);
    });
    test('day lists and wrapping ranges', () => {
        const w = parseTimeWindow('Fri-Mon 10:00-24:00 UTC');
        assert.equal(isInsideWindow(w, at('2024-03-10T23:59:00Z')), true, 'Sunday, up to 24:00');
        assert.equal(isInsideWindow(w, at('2024-03-06T12:00:00Z')), false, 'Wednesday');
        const list = parseTimeWindow('mon,wed 09:00-10:00 America/New_York');
        assert.equal(isInsideWindow(list, at('2024-03-06T14:30:00Z')), true, 'Wednesday 09:30 New York (UTC-5)');
        assert.equal(isInsideWindow(list, at('2024-03-05T14:30:00Z')), false, 'Tuesday');
    });
    test('malformed windows are refused with a reason', () => {
        for (const bad of ['08:00-18:00', 'Mon-Fri 08:00-18:00 Mars/Olympus', 'Funday 08:00-18:00 UTC', '25:00-26:00 UTC',
            '08:00-08:00 UTC', '8:00-18:00 UTC', 'Mon-Fri 08:00-18:00 UTC extra', 'Mon-Tue-Wed 08:00-09:00 UTC']) {
            assert.throws(() => parseTimeWindow(bad), (err) => isSikkerKeyError(err, 'SK_ERR_VALIDATION'), bad);
        }
    });
});
describe('the GeoIP database', () => {
    test('a missing or malformed --geoip-db file fails at start with SK_ERR_CONFIG', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'sk-geoip-bad-'));
        try {
            await assert.rejects(openGeoIp(join(dir, 'absent.mmdb')), (err) => isSikkerKeyError(err, 'SK_ERR_CONFIG') && /--geoip-db/.test(err.message));
            await writeFile(join(dir, 'garbage.mmdb'), 'this is not a MaxMind database');
            await assert.rejects(openGeoIp(join(dir, 'garbage.mmdb')), (err) => isSikkerKeyError(err, 'SK_ERR_CONFIG'));
        }
        finally {
            await rm(dir, { recursive: true, force: true });
        }
    });
    test('the test database maps its ranges to their countries and nothing else', async () => {
        const db = await buildGeoIpDb();
        try {
            const geo = await openGeoIp(db.path);
            assert.deepEqual(['192.0.2.7', '198.51.100.1', '203.0.113.250', '8.8.8.8', '127.0.0.1'].map((ip) => geo.countryOf(ip)), ['NO', 'SE', 'US', undefined, undefined]);
        }
        finally {
            await db.remove();
        }
    });
});
forEachStore('machine guardrails', (s) => {
    let v;
    let clock = at('2024-03-04T09:00:00Z');
    let geoip;
    before(async () => {
        geoip = await buildGeoIpDb();
        v = await startTestVault(await s.open(), { now: () => clock, geoipDb: geoip.path });
        assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'ops' })).status, 201);
        assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/ops/secrets/db', { value: 'ops-db-value-1' })).status, 200);
    });
    after(async () => {
        await v.close();
        await geoip.remove();
    });
    const read = (key, remoteAddress) => v.call(key, 'GET', '/v1/projects/ops/secrets/db', undefined, remoteAddress ? { remoteAddress } : {});
    test('a time window is enforced on every request, with the injected clock', async () => {
        clock = at('2024-03-04T09:00:00Z');
        const t = await createToken(v, 'bootstrap', { project: 'ops', secrets: ['db'], lifetime: '30d', timeWindow: 'Mon-Fri 08:00-18:00 Europe/Oslo', noApproval: true });
        const { key, res } = await enroll(v, t.token, { hostname: 'contractor-laptop' });
        assert.equal(res.status, 201, res.raw);
        assert.equal((await read(key)).status, 200);
        clock = at('2024-03-04T17:30:00Z'); // 18:30 in Oslo
        const late = await read(key);
        assert.equal(late.status, 403);
        assert.equal(codeOf(late), 'SK_ERR_MACHINE_CONSTRAINT');
        assert.equal(ruleOf(late), 'window');
        assert.match(messageOf(late), /outside the time window Mon-Fri 08:00-18:00 Europe\/Oslo/);
        clock = at('2024-03-09T10:00:00Z'); // Saturday
        assert.equal(codeOf(await read(key)), 'SK_ERR_MACHINE_CONSTRAINT');
        clock = at('2024-03-05T07:30:00Z'); // Tuesday 08:30 in Oslo
        assert.equal((await read(key)).status, 200);
    });
    test('a registration outside the window is refused and the single use stays unspent', async () => {
        clock = at('2024-03-09T10:00:00Z');
        const t = await createToken(v, 'bootstrap', { project: 'ops', lifetime: '2h', timeWindow: 'Mon-Fri 08:00-18:00 Europe/Oslo', noApproval: true });
        const refused = (await enroll(v, t.token)).res;
        assert.equal(refused.status, 403);
        assert.equal(codeOf(refused), 'SK_ERR_TOKEN_CONSTRAINT');
        assert.match(messageOf(refused), /window/);
        clock = at('2024-03-11T09:00:00Z'); // Monday
        const later = await createToken(v, 'bootstrap', { project: 'ops', lifetime: '2h', noApproval: true });
        assert.equal((await enroll(v, later.token)).res.status, 201);
        // The first token expired meanwhile (24 h default), so check its use count directly.
        const row = await v.ctx.store.db.selectFrom('bootstrap_tokens').select('uses').where('id', '=', t.id).executeTakeFirstOrThrow();
        assert.equal(row.uses, 0);
    });
    test('a country allowlist reads the source address\'s country from the GeoIP database', async () => {
        clock = at('2024-03-04T09:00:00Z');
        const t = await createToken(v, 'bootstrap', { project: 'ops', lifetime: '2h', countryAllowlist: ['no', 'SE'], noApproval: true });
        const fromUs = (await enroll(v, t.token, { remoteAddress: '203.0.113.9' })).res;
        assert.equal(codeOf(fromUs), 'SK_ERR_TOKEN_CONSTRAINT');
        const { key, res } = await enroll(v, t.token, { remoteAddress: '192.0.2.7' });
        assert.equal(res.status, 201, res.raw);
        const row = await v.ctx.store.db.selectFrom('machines').selectAll().where('key_id', '=', key.keyId).executeTakeFirstOrThrow();
        assert.equal(row.country_allowlist, '["NO","SE"]', 'the machine carries the token\'s guardrails');
        assert.equal((await read(key, '192.0.2.7')).status, 200, 'Norway');
        assert.equal((await read(key, '198.51.100.3')).status, 200, 'Sweden');
        const us = await read(key, '203.0.113.5');
        assert.equal(codeOf(us), 'SK_ERR_MACHINE_CONSTRAINT');
        assert.equal(ruleOf(us), 'country');
        assert.match(messageOf(us), /requests from US are outside the country allowlist/);
        for (const privateAddress of ['127.0.0.1', '10.1.2.3', '::1']) {
            const r = await read(key, privateAddress);
            assert.equal(codeOf(r), 'SK_ERR_MACHINE_CONSTRAINT', privateAddress);
            assert.match(messageOf(r), /has no country/);
        }
        assert.equal((await read(key, '::ffff:192.0.2.7')).status, 200, 'an IPv4-mapped IPv6 address is looked up as IPv4');
    });
    test('an IP allowlist is enforced on every request', async () => {
        const t = await createToken(v, 'bootstrap', { project: 'ops', lifetime: '2h', ipAllowlist: ['192.0.2.0/24', '2001:db8::/32'], noApproval: true });
        const { key } = await enroll(v, t.token, { remoteAddress: '192.0.2.1' });
        assert.equal((await read(key, '192.0.2.200')).status, 200);
        assert.equal((await read(key, '2001:db8::7')).status, 200);
        const outside = await read(key, '198.51.100.1');
        assert.equal(codeOf(outside), 'SK_ERR_MACHINE_CONSTRAINT');
        assert.equal(ruleOf(outside), 'ip');
        const row = await v.ctx.store.db.selectFrom('machines').select(['ip_allowlist', 'constraints', 'created_at']).where('key_id', '=', key.keyId).executeTakeFirstOrThrow();
        assert.equal(row.ip_allowlist, '["192.0.2.0/24","2001:db8::/32"]');
        assert.deepEqual(JSON.parse(row.constraints ?? '{}'), { maxExpiresAt: row.created_at + 365 * 24 * 3_600_000 });
    });
    test('a machine\'s repeated refusals for one rule are audited at most once a minute', async () => {
        const t = await createToken(v, 'bootstrap', { project: 'ops', lifetime: '2h', ipAllowlist: ['192.0.2.0/24'], noApproval: true });
        const { key, res } = await enroll(v, t.token, { remoteAddress: '192.0.2.1' });
        const machineId = res.body.machineId;
        await read(key, '198.51.100.1');
        await read(key, '198.51.100.2');
        const events = await v.ctx.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'machine.constraint').where('actor_id', '=', machineId).execute();
        assert.equal(events.length, 1);
        assert.equal(events[0]?.outcome, 'denied');
        assert.equal(events[0]?.source_ip, '198.51.100.1');
        clock += 61_000;
        await read(key, '198.51.100.3');
        const again = await v.ctx.store.db.selectFrom('audit_events').select('id').where('action', '=', 'machine.constraint').where('actor_id', '=', machineId).execute();
        assert.equal(again.length, 2);
    });
    test('constraints the server does not understand refuse every request (fail closed)', async () => {
        const key = await v.addMachine('written-by-a-newer-vault');
        await v.call(v.operator, 'POST', '/v1/grants', { machine: 'written-by-a-newer-vault', project: 'ops' });
        assert.equal((await read(key)).status, 200);
        const set = (values) => v.ctx.store.db.updateTable('machines').set(values).where('name', '=', 'written-by-a-newer-vault').execute();
        await set({ constraints: JSON.stringify({ quantumLock: true }) });
        const unknown = await read(key);
        assert.equal(unknown.status, 403);
        assert.equal(codeOf(unknown), 'SK_ERR_CONSTRAINT_UNKNOWN');
        assert.match(messageOf(unknown), /quantumLock/);
        assert.equal(codeOf(await read(key)), 'SK_ERR_CONSTRAINT_UNKNOWN', 'every request, not just the first');
        await set({ constraints: null, ip_allowlist: 'not json' });
        assert.equal(codeOf(await read(key)), 'SK_ERR_CONSTRAINT_UNKNOWN');
        await set({ ip_allowlist: null, time_window: 'whenever' });
        assert.equal(codeOf(await read(key)), 'SK_ERR_CONSTRAINT_UNKNOWN');
        await set({ time_window: null, country_allowlist: '["Atlantis"]' });
        assert.equal(codeOf(await read(key)), 'SK_ERR_CONSTRAINT_UNKNOWN');
        await set({ country_allowlist: null, constraints: JSON.stringify({ maxExpiresAt: clock - 1 }) });
        assert.equal(codeOf(await read(key)), 'SK_ERR_MACHINE_EXPIRED', 'maxExpiresAt is a known constraint and is enforced');
        await set({ constraints: null });
        assert.equal((await read(key)).status, 200);
    });
    test('without a GeoIP database a country allowlist denies, naming --geoip-db', async () => {
        const plain = await startTestVault(await s.openAt(await s.freshLocation()), { now: () => clock });
        try {
            assert.equal((await plain.call(plain.operator, 'POST', '/v1/projects', { name: 'ops' })).status, 201);
            assert.equal((await plain.call(plain.operator, 'PUT', '/v1/projects/ops/secrets/db', { value: 'ops-db-value-2' })).status, 200);
            const t = await createToken(plain, 'bootstrap', { project: 'ops', lifetime: '2h', countryAllowlist: ['NO'], noApproval: true });
            const refused = (await enroll(plain, t.token, { remoteAddress: '192.0.2.7' })).res;
            assert.equal(codeOf(refused), 'SK_ERR_TOKEN_CONSTRAINT');
            assert.match(messageOf(refused), /no GeoIP database: start sikkerkey-vault serve with --geoip-db FILE/);
            const key = await plain.addMachine('with-countries');
            await plain.call(plain.operator, 'POST', '/v1/grants', { machine: 'with-countries', project: 'ops' });
            await plain.ctx.store.db.updateTable('machines').set({ country_allowlist: '["NO"]' }).where('name', '=', 'with-countries').execute();
            const res = await plain.call(key, 'GET', '/v1/projects/ops/secrets/db', undefined, { remoteAddress: '192.0.2.7' });
            assert.equal(codeOf(res), 'SK_ERR_MACHINE_CONSTRAINT');
            assert.match(messageOf(res), /--geoip-db/);
        }
        finally {
            await plain.close();
        }
    });
});
//# sourceMappingURL=lifecycle-constraints.test.js.map
// Enrollment tokens' hostname regexes run on RE2 (re2js): linear time whatever the pattern, matched
// before the write transaction, so a catastrophic pattern cannot freeze the vault; patterns only a
// backtracking engine runs are refused at create, and stored ones are named at start and refuse
// registrations; hostnames are at most 253 characters (DNS).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { codeOf, createToken, enroll, messageOf } from '../support/enrollment.js';
import { buildApp } from '../../vault-server/app.js';
import { UNSUPPORTED_PATTERN_WARNING } from '../../vault-server/modules/enrollment/enrollment-tokens.js';

forEachStore('enrollment hostname regex', (s) => {
  let v: TestVault;

  before(async () => {
    v = await startTestVault(await s.open());
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'ci' })).status, 201);
  });
  after(async () => v.close());

  test('a nested-quantifier pattern runs in linear time on a 253-character hostname while /healthz keeps answering', async (t) => {
    // `([a-z]+)*[0-9]` backtracks exponentially in a JavaScript RegExp on a long run of letters.
    const tok = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', hostnameRegex: '([a-z]+)*[0-9]' });
    const started = performance.now();
    let enrollDone = false;
    const refused = enroll(v, tok.token, { hostname: 'a'.repeat(253) });
    const accepted = enroll(v, tok.token, { hostname: `${'a'.repeat(252)}1` });
    const both = Promise.all([refused, accepted]).finally(() => { enrollDone = true; });
    // /healthz, asked again and again until both registrations are answered. In-process, a request
    // cannot even start while a synchronous match holds the event loop, so the stall shows as the
    // longest gap between consecutive /healthz answers (each request's own latency is reported too).
    const latencies: number[] = [];
    const answeredAt: number[] = [started];
    for (;;) {
      const t0 = performance.now();
      const h = await v.send('GET', '/healthz', {});
      answeredAt.push(performance.now());
      latencies.push(performance.now() - t0);
      assert.equal(h.status, 200);
      if (enrollDone || performance.now() - started > 30_000) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const [no, yes] = await both;
    const elapsed = performance.now() - started;
    const gap = Math.max(...answeredAt.slice(1).map((at, i) => at - (answeredAt[i] as number)));
    const worst = Math.max(...latencies);
    t.diagnostic(`two enrollments with 253-character hostnames: ${elapsed.toFixed(1)} ms; /healthz: ${latencies.length} answers, worst latency ${worst.toFixed(1)} ms, longest gap between answers ${gap.toFixed(1)} ms`);
    assert.equal(no.res.status, 403, no.res.raw);
    assert.equal(codeOf(no.res), 'SK_ERR_TOKEN_CONSTRAINT');
    assert.equal(yes.res.status, 201, yes.res.raw);
    assert.ok(elapsed < 10_000, `the enrollments took ${elapsed} ms`);
    assert.ok(worst < 2_000 && gap < 2_000, `/healthz stalled while a hostname regex ran: worst latency ${worst} ms, gap ${gap} ms`);
  });

  test('look-around and back-references are refused at create with SK_ERR_ENROLL_PATTERN_UNSUPPORTED; a broken pattern is SK_ERR_VALIDATION', async () => {
    for (const pattern of ['runner-(?=[0-9])[0-9]+', '(?<!x)runner-[0-9]+', '(runner)-\\1']) {
      const res = await v.call(v.operator, 'POST', '/v1/enrollment-tokens', { project: 'ci', machineLifetime: '1h', hostnameRegex: pattern });
      assert.equal(res.status, 400, `${pattern}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED', pattern);
      assert.match(messageOf(res), /RE2/);
    }
    const broken = await v.call(v.operator, 'POST', '/v1/enrollment-tokens', { project: 'ci', machineLifetime: '1h', hostnameRegex: 'runner-(' });
    assert.equal(broken.status, 400);
    assert.equal(codeOf(broken), 'SK_ERR_VALIDATION');
  });

  test('a stored token with a look-around pattern refuses registrations with SK_ERR_ENROLL_PATTERN_UNSUPPORTED and is named in a start-up warning', async () => {
    const tok = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', name: 'legacy-fleet', hostnameRegex: 'runner-[0-9]+' });
    // As an older vault (JavaScript regexes) would have stored it.
    await v.ctx.store.db.updateTable('enrollment_tokens').set({ constraints: JSON.stringify({ hostnameRegex: 'runner-(?=[0-9])[0-9]+' }) })
      .where('id', '=', tok.id).execute();
    const res = (await enroll(v, tok.token, { hostname: 'runner-7' })).res;
    assert.equal(res.status, 400, res.raw);
    assert.equal(codeOf(res), 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED');
    const audit = await v.ctx.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'machine.enroll').where('outcome', '!=', 'success').execute();
    assert.ok(audit.some((e) => (e.details ?? '').includes('SK_ERR_ENROLL_PATTERN_UNSUPPORTED')), 'the refusal is audited');

    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } }));
    const { app } = await buildApp({ store: v.ctx.store, keyring: v.ctx.keyring, log, authorities: ['vault.test'] });
    await app.close();
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; tokens?: Array<{ id: string; name: string; hostnameRegex: string }> })
      .find((l) => l.msg === UNSUPPORTED_PATTERN_WARNING);
    assert.ok(warning, `no start-up warning in:\n${lines.join('')}`);
    assert.equal(warning.level, 40);
    assert.deepEqual(warning.tokens, [{ id: tok.id, name: 'legacy-fleet', hostnameRegex: 'runner-(?=[0-9])[0-9]+' }]);
  });

  test('a 254-character hostname is refused with a 400 that names the 253-character limit', async () => {
    const tok = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h' });
    const long = (await enroll(v, tok.token, { hostname: `${'h'.repeat(250)}.com` })).res;
    assert.equal(long.status, 400, long.raw);
    assert.equal(codeOf(long), 'SK_ERR_VALIDATION');
    assert.match(messageOf(long), /253/);
    assert.equal((await enroll(v, tok.token, { hostname: `${'h'.repeat(249)}.com` })).res.status, 201, 'exactly 253 characters is fine');
  });

  test('an unbalanced pattern is refused at create, not wrapped into one that matches every hostname', async () => {
    const res = await v.call(v.operator, 'POST', '/v1/enrollment-tokens', { project: 'ci', machineLifetime: '1h', hostnameRegex: 'web-1)|(.*' });
    assert.equal(res.status, 400, res.raw);
    assert.ok(['SK_ERR_VALIDATION', 'SK_ERR_ENROLL_PATTERN_UNSUPPORTED'].includes(codeOf(res) ?? ''), res.raw);
  });
});

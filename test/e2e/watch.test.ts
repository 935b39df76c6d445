// Consumers follow: an application watching a secret through the client library learns of each
// promotion within a second (DESIGN §6; issue "rotation that never breaks the application").
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { engineFixture } from '../support/engine-fixtures.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import { randomTag } from '../support/services.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';

test('a watcher on the client library sees each of 20 promotions within a second (median printed)', async () => {
  const fx = await engineFixture('redis');
  const user = `sk_watch_${randomTag(3)}`;
  const pw = `pw-${randomTag(8)}`;
  await fx.createUsers([{ username: user, password: pw }]);
  const h = await startRotationHarness({ engine: 'redis', target: fx.target(user, pw), admin: fx.admin, lease: '10s' });
  const abort = new AbortController();
  after(async () => {
    abort.abort();
    await h.close();
    await fx.cleanup();
  });
  const agent = await h.startAgent();
  const key = (name: string): VaultClient => {
    const k = readPrivateKeyFile(join(h.dir, name));
    return new VaultClient({ url: h.url, key: { keyId: k.keyId, privateKey: k.privateKey } });
  };
  const operator = key('operator.key');
  const app = key('app.key');

  const seen = new Map<number, number>(); // version → when the watcher saw it
  const watching = (async () => {
    for await (const value of app.watch('db', 'app', { signal: abort.signal, waitSeconds: 10 })) seen.set(value.version, Date.now());
  })().catch((err: unknown) => { if (!abort.signal.aborted) throw err; });

  const delays: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { body } = await operator.request<{ id: string }>('POST', '/v1/projects/db/secrets/app/rotation/run');
    let job: { state: string; finishedAt: number | null } = { state: 'pending', finishedAt: null };
    while (job.state !== 'promoted') {
      job = (await operator.request<{ state: string; finishedAt: number | null }>('GET', `/v1/rotations/${body.id}`)).body;
      assert.ok(!['failed', 'stuck'].includes(job.state), `rotation ${i} ${job.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const version = (await app.getSecret('db', 'app')).version;
    const deadline = Date.now() + 5000;
    while (!seen.has(version) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(seen.has(version), `the watcher never saw version ${version}`);
    delays.push((seen.get(version) as number) - (job.finishedAt as number));
  }
  delays.sort((x, y) => x - y);
  const median = delays[Math.floor(delays.length / 2)] as number;
  console.log(`watch: 20 promotions, median ${median} ms from promotion to the watcher (max ${delays[delays.length - 1]} ms)`);
  assert.ok(median <= 1000, `median ${median} ms`);
  abort.abort();
  await watching;
  await agent.stop();
});

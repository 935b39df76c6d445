// Webhooks from the command line against a served vault (SQLite): `serve` runs the delivery
// worker, which a commit wakes, so a delivery arrives without anyone driving a tick.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { webhookReceiver } from '../support/webhook-receiver.js';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { verifyWebhook } from '../../protocol/webhooks.js';

let vault: VaultProcess | undefined;
const rx = webhookReceiver();
const got = rx.got;
after(async () => {
  await vault?.close();
  await rx.close();
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('webhook add/list/deliveries/rotate-secret/redeliver/remove and alert add/list/test/remove, with the served worker delivering', async () => {
  await rx.listen();
  const hookUrl = rx.url;
  // The receiver is on loopback: a private address the vault sends to only when allowed.
  vault = await startVaultProcess({ args: ['--webhook-allow-cidr', '127.0.0.1/32'] });
  const { url, opKey } = vault;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await runBin('sikkerkey', [...args, '--json'], { env }));

  const hook = await sk<{ id: string; secret: string }>('webhook', 'add', hookUrl, '--events', 'project.unlocked');
  assert.deepEqual(Object.keys(hook).sort(), ['id', 'secret']);
  const bad = await runBin('sikkerkey', ['webhook', 'add', hookUrl, '--events', 'rotation.exploded'], { env });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^error SK_ERR_WEBHOOK_EVENT_UNKNOWN: /);

  await sk('project', 'create', 'shop');
  await sk('project', 'unlock', 'shop', '--reason', 'cli test');
  await until('the delivery', () => got.length === 1);
  const now = (): number => Math.floor(Date.now() / 1000);
  assert.equal(verifyWebhook({ secrets: [hook.secret], headers: got[0]!.headers, body: got[0]!.body, now: now() }).ok, true);

  const listed = await sk<{ webhooks: Array<{ id: string; events: string[] }> }>('webhook', 'list');
  assert.deepEqual(listed.webhooks.map((w) => [w.id, w.events]), [[hook.id, ['project.unlocked']]]);
  const deliveries = await sk<{ deliveries: Array<{ id: string; status: string; attempts: number }> }>('webhook', 'deliveries', hook.id);
  assert.deepEqual(deliveries.deliveries.map((d) => [d.status, d.attempts]), [['delivered', 1]]);

  const rotated = await sk<{ secret: string; previousSecretExpiresAt: number }>('webhook', 'rotate-secret', hook.id, '--overlap', '2h');
  assert.ok(rotated.previousSecretExpiresAt > Date.now() + 3_500_000);
  await sk('webhook', 'redeliver', deliveries.deliveries[0]!.id);
  await until('the redelivery', () => got.length === 2);
  for (const secret of [hook.secret, rotated.secret]) {
    assert.equal(verifyWebhook({ secrets: [secret], headers: got[1]!.headers, body: got[1]!.body, now: now() }).ok, true);
  }

  const rule = await sk<{ id: string }>('alert', 'add', '--events', 'canary.tripped,policy.failing', '--project', 'shop', '--min-severity', 'critical', '--webhook', hook.id);
  const rules = await sk<{ rules: Array<{ id: string; project: string; minSeverity: string }> }>('alert', 'list');
  assert.deepEqual(rules.rules.map((r) => [r.id, r.project, r.minSeverity]), [[rule.id, 'shop', 'critical']]);
  const tested = await sk<{ status: string; type: string }>('alert', 'test', rule.id);
  assert.deepEqual([tested.status, tested.type], ['delivered', 'alert.test']);
  assert.equal((JSON.parse(got.at(-1)!.body) as { type: string }).type, 'alert.test');
  await sk('alert', 'remove', rule.id);
  await sk('webhook', 'remove', hook.id);
  assert.deepEqual((await sk<{ webhooks: unknown[] }>('webhook', 'list')).webhooks, []);
});

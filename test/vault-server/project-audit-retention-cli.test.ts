// `sikkerkey project set-audit-retention` and `project get` (issue 25) against a real
// `serve --audit-retention 400d`: the vault refuses a shorter setting with SK_ERR_AUDIT_RETENTION,
// a longer one shows in `project get/list --json` and the text listing, `default` clears it, and
// a malformed duration never leaves the CLI.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

const DAY = 86_400_000;
let v: VaultProcess | undefined;
after(async () => { await v?.close(); });

test('project set-audit-retention: shorter than the vault\'s is SK_ERR_AUDIT_RETENTION; longer shows in get and list; default clears it', { timeout: 120_000 }, async () => {
  v = await startVaultProcess({ args: ['--audit-retention', '400d'] });
  assert.equal((await v.sk(['project', 'create', 'shop'])).code, 0);
  assert.match((await v.sk(['project', 'set-audit-retention', '--help'])).stdout, /never shorter/);

  const shorter = await v.sk(['project', 'set-audit-retention', 'shop', '300d', '--json']);
  assert.notEqual(shorter.code, 0);
  assert.match(shorter.stderr, /SK_ERR_AUDIT_RETENTION/);
  const typo = await v.sk(['project', 'set-audit-retention', 'shop', '800 days']);
  assert.match(typo.stderr, /SK_ERR_USAGE/);

  const set = await v.sk(['project', 'set-audit-retention', 'shop', '800d', '--json']);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual((({ auditRetentionMs, effectiveAuditRetentionMs }) => ({ auditRetentionMs, effectiveAuditRetentionMs }))(JSON.parse(set.stdout) as Record<string, unknown>),
    { auditRetentionMs: 800 * DAY, effectiveAuditRetentionMs: 800 * DAY });
  const got = JSON.parse((await v.sk(['project', 'get', 'shop', '--json'])).stdout) as { name: string; auditRetentionMs: number };
  assert.deepEqual([got.name, got.auditRetentionMs], ['shop', 800 * DAY]);
  assert.match((await v.sk(['project', 'list'])).stdout, /shop .* 800d \(own\)/);

  const cleared = JSON.parse((await v.sk(['project', 'set-audit-retention', 'shop', 'default', '--json'])).stdout) as { auditRetentionMs: number | null; effectiveAuditRetentionMs: number };
  assert.deepEqual([cleared.auditRetentionMs, cleared.effectiveAuditRetentionMs], [null, 400 * DAY]);
  assert.match((await v.sk(['project', 'get', 'shop'])).stdout, /audit kept +400d \(vault\)/);
  const events = JSON.parse((await v.sk(['audit', 'list', '--action', 'project.audit_retention_changed', '--all', '--json'])).stdout) as { events: unknown[] };
  assert.equal(events.events.length, 2, 'the two changes, not the refusals');
});

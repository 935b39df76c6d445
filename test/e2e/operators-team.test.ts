// A team runs the vault (issue "A team can run it"), end to end with real processes on SQLite:
// an owner invites an admin and a viewer, each accepts with a key made on its own side; what each
// role may do; the last owner cannot be removed or demoted; a second key through
// `invite --existing`; `rotate-key`; a revoked key is refused on the very next request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { jsonOf, runBin } from '../support/processes.js';
import type { CliResult } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => vault?.close());

interface Invitation { id: string; name: string; role: string; token: string; expiresAt: number; url: string }

test('owner, admin and viewer: invitations, roles, the last owner, several keys, rotation and revocation', async () => {
  vault = await startVaultProcess();
  const { url, dir, opKey: ownerKey } = vault;
  const as = (keyFile: string) => async (...args: string[]): Promise<CliResult> => runBin('sikkerkey', ['--json', ...args], { env: { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: keyFile } });
  const ok = async <T>(r: Promise<CliResult>): Promise<T> => {
    const res = await r;
    assert.equal(res.code, 0, res.stderr);
    return jsonOf<T>(res);
  };
  const refused = async (r: Promise<CliResult>, code: string): Promise<void> => {
    const res = await r;
    assert.notEqual(res.code, 0, `expected ${code}, got success: ${res.stdout}`);
    assert.match(res.stderr, new RegExp(`^error ${code}: `), res.stderr);
  };
  const owner = as(ownerKey);

  // -- invitations: shown once, accepted with a key made on the invitee's side -----------------
  const adminInv = await ok<Invitation>(owner('operator', 'invite', 'ada', '--role', 'admin', '--expires', '24h'));
  assert.equal(adminInv.role, 'admin');
  assert.match(adminInv.token, /^skinv_[A-Za-z0-9_-]{43}$/);
  assert.equal(adminInv.url, `${url}/ui/accept#token=${adminInv.token}`);
  assert.ok(adminInv.expiresAt > Date.now() + 23 * 3600_000);
  const viewerInv = await ok<Invitation>(owner('operator', 'invite', 'vic', '--role', 'viewer'));

  const adaKey = join(dir, 'ada.key');
  // --url the vault, --token the token
  const adaAccepted = await ok<{ operator: { name: string; role: string }; keyId: string }>(runBin('sikkerkey', ['operator', 'accept', '--url', url, '--token', adminInv.token, '--key-file', adaKey, '--json']));
  assert.deepEqual([adaAccepted.operator.name, adaAccepted.operator.role], ['ada', 'admin']);
  assert.equal(statSync(adaKey).mode & 0o777, 0o600);
  // The invitation is single-use: a second acceptance is refused and writes no key file.
  const again = join(dir, 'ada-again.key');
  await refused(runBin('sikkerkey', ['operator', 'accept', '--url', adminInv.url, '--key-file', again]), 'SK_ERR_INVITATION_INVALID');
  assert.equal(existsSync(again), false);

  const vicKey = join(dir, 'vic.key');
  // --url the invitation link itself: the token comes from its fragment
  await ok(runBin('sikkerkey', ['operator', 'accept', '--url', viewerInv.url, '--key-file', vicKey, '--label', 'vic-laptop', '--json']));
  const ada = as(adaKey);
  const vic = as(vicKey);

  const roster = await ok<{ operators: Array<{ name: string; role: string; status: string; keys: number }> }>(vic('operator', 'list'));
  assert.deepEqual(roster.operators.map((o) => [o.name, o.role, o.status, o.keys]), [['ada', 'admin', 'active', 1], ['owner', 'owner', 'active', 1], ['vic', 'viewer', 'active', 1]]);

  // -- the viewer lists but does not write ------------------------------------------------------
  await ok(owner('project', 'create', 'shop'));
  await ok(vic('project', 'list'));
  await refused(vic('project', 'create', 'nope'), 'SK_ERR_FORBIDDEN');
  await refused(vic('secret', 'set', 'shop', 'db', '--value', 'x'), 'SK_ERR_FORBIDDEN');
  await refused(vic('operator', 'invite', 'eve', '--role', 'viewer'), 'SK_ERR_FORBIDDEN');

  // -- the admin writes, invites viewers only, manages no operator ------------------------------
  await ok(ada('project', 'create', 'billing'));
  await ok(ada('secret', 'set', 'billing', 'api', '--value', 'team-test-value'));
  await refused(ada('operator', 'invite', 'mallory', '--role', 'owner'), 'SK_ERR_ROLE_ESCALATION');
  await refused(ada('operator', 'invite', 'mallory', '--role', 'admin'), 'SK_ERR_ROLE_ESCALATION');
  await refused(ada('operator', 'invite', 'owner', '--existing'), 'SK_ERR_ROLE_ESCALATION');
  await refused(ada('operator', 'set-role', 'vic', '--role', 'admin'), 'SK_ERR_ROLE_ESCALATION');
  await refused(ada('operator', 'set-role', 'ada', '--role', 'owner'), 'SK_ERR_ROLE_ESCALATION');
  await refused(ada('operator', 'disable', 'vic'), 'SK_ERR_ROLE_ESCALATION');
  await refused(ada('operator', 'remove', 'owner'), 'SK_ERR_ROLE_ESCALATION');
  const { publicKey: otherPub } = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', join(dir, 'other.key'), '--json']));
  await refused(ada('operator', 'add', 'mallory', '--public-key', otherPub, '--role', 'admin'), 'SK_ERR_ROLE_ESCALATION');
  const viewerByAdmin = await ok<Invitation>(ada('operator', 'invite', 'wes', '--role', 'viewer'));
  assert.equal(viewerByAdmin.role, 'viewer');
  await ok(ada('operator', 'invitation', 'revoke', viewerByAdmin.id));
  await refused(runBin('sikkerkey', ['operator', 'accept', '--url', viewerByAdmin.url, '--key-file', join(dir, 'wes.key')]), 'SK_ERR_INVITATION_INVALID');

  // -- the last owner stays ---------------------------------------------------------------------
  await refused(owner('operator', 'remove', 'owner'), 'SK_ERR_LAST_OWNER');
  await refused(owner('operator', 'set-role', 'owner', '--role', 'admin'), 'SK_ERR_LAST_OWNER');
  await refused(owner('operator', 'disable', 'owner'), 'SK_ERR_LAST_OWNER');
  const ownerKeys = await ok<{ keys: Array<{ keyId: string }> }>(owner('operator', 'key', 'list', 'owner'));
  await refused(owner('operator', 'key', 'revoke', '--', 'owner', ownerKeys.keys[0]!.keyId), 'SK_ERR_LAST_OWNER');
  // With a second owner, the first may step down.
  await ok(owner('operator', 'set-role', 'ada', '--role', 'owner'));
  await ok(owner('operator', 'set-role', 'ada', '--role', 'admin'));

  // -- a second key through invite --existing ---------------------------------------------------
  const second = await ok<Invitation>(owner('operator', 'invite', 'vic', '--existing', '--expires', '1h'));
  assert.equal(second.role, 'viewer');
  const vicKey2 = join(dir, 'vic-2.key');
  await ok(runBin('sikkerkey', ['operator', 'accept', '--url', second.url, '--key-file', vicKey2, '--label', 'vic-desktop', '--json']));
  const vic2 = as(vicKey2);
  await ok(vic2('project', 'list'));
  await ok(vic('project', 'list')); // the first key still works
  const vicKeys = await ok<{ keys: Array<{ keyId: string; label: string; revokedAt: number | null }> }>(vic2('operator', 'key', 'list', 'vic'));
  assert.deepEqual(vicKeys.keys.map((k) => [k.label, k.revokedAt]), [['vic-laptop', null], ['vic-desktop', null]]);
  await refused(vic('operator', 'key', 'list', 'owner'), 'SK_ERR_FORBIDDEN');

  // -- a revoked key is refused at once ---------------------------------------------------------
  await ok(vic2('operator', 'key', 'revoke', '--', 'vic', vicKeys.keys[0]!.keyId)); // the operator revokes their own laptop key
  await refused(vic('project', 'list'), 'SK_ERR_KEY_REVOKED');
  await ok(vic2('project', 'list'));

  // -- rotate-key: signed with the old key, proving the new; the old one is refused after -------
  const adaNew = join(dir, 'ada-new.key');
  const rotated = await ok<{ operator: string; oldKeyId: string; keyId: string }>(
    runBin('sikkerkey', ['operator', 'rotate-key', '--key-file', adaNew, '--json'], { env: { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: adaKey } }));
  assert.equal(rotated.operator, 'ada');
  assert.notEqual(rotated.keyId, rotated.oldKeyId);
  await ok(as(adaNew)('project', 'list'));
  await refused(ada('project', 'list'), 'SK_ERR_KEY_REVOKED');

  // -- an owner disables and removes; the audit trail has every change --------------------------
  await ok(owner('operator', 'disable', 'vic'));
  await refused(vic2('project', 'list'), 'SK_ERR_FORBIDDEN');
  await ok(owner('operator', 'enable', 'vic'));
  await ok(vic2('project', 'list'));
  await ok(owner('operator', 'remove', 'vic'));
  await refused(vic2('project', 'list'), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
  const audit = await ok<{ events: Array<{ action: string; outcome: string }> }>(owner('audit', 'list', '--all'));
  const actions = audit.events.map((e) => `${e.action}:${e.outcome}`);
  for (const a of ['operator.invite:success', 'operator.accept:success', 'operator.key.add:success', 'operator.set_role:success', 'operator.key.revoke:success',
    'operator.key.rotate:success', 'operator.disable:success', 'operator.enable:success', 'operator.remove:success', 'operator.invitation.revoke:success',
    'operator.invite:denied', 'operator.remove:denied', 'operator.set_role:denied']) {
    assert.ok(actions.includes(a), `audit has no ${a}`);
  }
  const verify = await ok<{ ok: boolean }>(owner('audit', 'verify'));
  assert.equal(verify.ok, true);

  // -- every new command has --help ---------------------------------------------------------------
  for (const cmd of [['invite'], ['accept'], ['add'], ['list'], ['set-role'], ['disable'], ['enable'], ['remove'], ['rotate-key'], ['key', 'list'], ['key', 'revoke'], ['invitation', 'list'], ['invitation', 'revoke']]) {
    const help = await runBin('sikkerkey', ['operator', ...cmd, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--json/, `operator ${cmd.join(' ')} --help lists --json`);
  }
});

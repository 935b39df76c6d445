import { existsSync, unlinkSync } from 'node:fs';
import { sign } from 'node:crypto';
import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { VaultClient, encodePathSegment as enc } from '../../protocol/client.js';
import { generateIdentityKey, readPrivateKeyFile, writePrivateKeyFile } from '../../protocol/keys.js';
import { rotationProofMessage } from '../../protocol/signing.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { durationArg, table } from './cli-format.js';
import { clientFor, globals, out } from './cli-context.js';

interface OperatorView { id: string; name: string; role: string; status: string; keys: number; lastUsedAt: number | null; createdAt: number }
interface KeyView { keyId: string; label: string; createdAt: number; lastUsedAt: number | null; revokedAt: number | null }
interface InvitationView { id: string; name: string; role: string | null; existing: boolean; status: string; expiresAt: number; createdBy: string }

const ROLE_HELP = 'owner | admin | viewer';
const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString());

/**
 * `sikkerkey operator …`: the roster, invitations and keys (docs/operators.md).
 *
 * @example
 *   sikkerkey operator invite ana --role admin --expires 24h --json
 *   sikkerkey operator accept --url 'https://vault.example.com/ui/accept#token=skinv_…' --key-file ~/.sikkerkey/ana.key
 *   sikkerkey operator rotate-key --key-file ~/.sikkerkey/ana-2026.key
 */
export function operatorCommands(program: Command): void {
  const operator = program.command('operator').description('operators (people and their keys): roles owner, admin, viewer');

  operator.command('list').description('every operator with role, status and number of usable keys').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ operators: OperatorView[] }>('GET', '/v1/operators');
    out(this, body, () => table(['NAME', 'ROLE', 'STATUS', 'KEYS', 'LAST USED'], body.operators.map((o) => [o.name, o.role, o.status, String(o.keys), when(o.lastUsedAt)])));
  });

  operator.command('add <name>').description('add an operator whose public key was made elsewhere (scripted setups; prefer invite)')
    .requiredOption('--public-key <key>', 'the operator\'s Ed25519 public key (base64 raw or SPKI PEM)')
    .requiredOption('--role <role>', ROLE_HELP).option('--label <label>', 'a name for the key (default "initial")').option('--json')
    .action(async function (this: Command, name: string, o: { publicKey: string; role: string; label?: string }) {
      const { body } = await clientFor(this).request<{ id: string; name: string; role: string; keyId: string }>('POST', '/v1/operators', {
        name, publicKey: o.publicKey, role: o.role, ...(o.label ? { label: o.label } : {}),
      });
      out(this, body, () => `operator ${body.name} added as ${body.role} (key id ${body.keyId})`);
    });

  operator.command('invite <name>')
    .description('a single-use invitation (shown once): the invitee makes a key on their own machine with `operator accept`')
    .option('--role <role>', `the new operator's role: ${ROLE_HELP}`)
    .option('--existing', 'give an existing operator one more key (a lost key, a new device); keeps their role')
    .option('--expires <duration>', 'how long the invitation can be used (1m–30d)', durationArg('--expires'), '24h')
    .option('--json')
    .action(async function (this: Command, name: string, o: { role?: string; existing?: boolean; expires: string }) {
      if (Boolean(o.role) === Boolean(o.existing)) throw new SikkerKeyError('SK_ERR_USAGE', 'give --role ROLE for a new operator, or --existing for another key of an existing one');
      const { body } = await clientFor(this).request<{ id: string; name: string; role: string; token: string; expiresAt: number; url: string }>('POST', '/v1/operator-invitations', {
        name, ...(o.role ? { role: o.role } : {}), ...(o.existing ? { existing: true } : {}), expiresIn: o.expires,
      });
      out(this, body, () => [
        `invitation for ${body.name} (${body.role}${o.existing ? ', another key' : ''}), valid until ${when(body.expiresAt)}; it is shown only now:`,
        `  token  ${body.token}`,
        `  url    ${body.url}`,
        `the invitee runs: sikkerkey operator accept --url '${body.url}' --key-file KEYFILE`,
      ].join('\n'));
    });

  const invitation = operator.command('invitation').description('pending and past invitations');
  invitation.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ invitations: InvitationView[] }>('GET', '/v1/operator-invitations');
    out(this, body, () => table(['ID', 'NAME', 'ROLE', 'KIND', 'STATUS', 'EXPIRES', 'BY'], body.invitations.map((i) => [
      i.id, i.name, i.role ?? '-', i.existing ? 'new key' : 'new operator', i.status, when(i.expiresAt), i.createdBy,
    ])));
  });
  invitation.command('revoke <id>').description('make a pending invitation unusable').option('--json').action(async function (this: Command, id: string) {
    const { body } = await clientFor(this).request<{ invitation: InvitationView }>('POST', `/v1/operator-invitations/${enc(id)}/revoke`);
    out(this, body.invitation, () => `invitation ${id} is ${body.invitation.status}`);
  });

  operator.command('accept')
    .description('accept an invitation: makes a key here, writes it to --key-file (0600, never overwritten) and registers it, signed by itself. '
      + '--url is the vault\'s URL or the invitation\'s URL (its #token= is then used when --token is absent)')
    .option('--token <token>', 'the invitation token (skinv_…)')
    .option('--label <label>', 'a name for this key, e.g. the device (default "accepted")')
    .option('--json')
    .action(async function (this: Command, o: { token?: string; label?: string }) {
      const g = globals(this);
      const link = g.url ?? process.env.SIKKERKEY_URL;
      const keyFile = g.keyFile ?? process.env.SIKKERKEY_KEY_FILE;
      if (!link) throw new SikkerKeyError('SK_ERR_USAGE', 'give --url: the vault\'s URL or the invitation\'s');
      if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'give --key-file: where to write the new private key');
      const { url, token } = parseInvitationUrl(link, o.token);
      const key = generateIdentityKey();
      writePrivateKeyFile(keyFile, key.privateKey);
      try {
        const { body } = await new VaultClient({ url, key }).request<{ operator: { id: string; name: string; role: string }; keyId: string }>('POST', '/v1/operator-invitations/accept', {
          token, publicKey: Buffer.from(key.publicKey).toString('base64'), ...(o.label ? { label: o.label } : {}),
        });
        out(this, { ...body, keyFile, url }, () => `welcome, ${body.operator.name} (${body.operator.role}): key ${body.keyId} written to ${keyFile}\nexport SIKKERKEY_URL=${url} SIKKERKEY_KEY_FILE=${keyFile}`);
      } catch (err) {
        unlinkSync(keyFile); // the key was never registered: leave nothing that looks usable
        throw err;
      }
    });

  operator.command('set-role <name>').description('change an operator\'s role (owners only; the last owner cannot be demoted)')
    .requiredOption('--role <role>', ROLE_HELP).option('--json')
    .action(async function (this: Command, name: string, o: { role: string }) {
      const { body } = await clientFor(this).request<{ operator: OperatorView }>('POST', `/v1/operators/${enc(name)}/role`, { role: o.role });
      out(this, body.operator, () => `operator ${body.operator.name} is ${body.operator.role}`);
    });

  for (const [verb, what] of [['disable', 'stop an operator from signing anything (owners only)'], ['enable', 're-enable a disabled operator (owners only)']] as const) {
    operator.command(`${verb} <name>`).description(what).option('--json').action(async function (this: Command, name: string) {
      const { body } = await clientFor(this).request<{ operator: OperatorView }>('POST', `/v1/operators/${enc(name)}/${verb}`);
      out(this, body.operator, () => `operator ${body.operator.name} is ${body.operator.status === 'active' ? 'enabled' : 'disabled'}`);
    });
  }

  operator.command('remove <name>').description('remove an operator; their keys are revoked for good (owners only)').option('--json')
    .action(async function (this: Command, name: string) {
      const { body } = await clientFor(this).request<{ removed: string }>('DELETE', `/v1/operators/${enc(name)}`);
      out(this, body, () => `operator ${body.removed} removed`);
    });

  const key = operator.command('key').description('an operator\'s keys');
  key.command('list <name>').description('keys of an operator (your own; anyone\'s for an admin or owner)').option('--json')
    .action(async function (this: Command, name: string) {
      const { body } = await clientFor(this).request<{ operator: string; keys: KeyView[] }>('GET', `/v1/operators/${enc(name)}/keys`);
      out(this, body, () => table(['KEY ID', 'LABEL', 'CREATED', 'LAST USED', 'REVOKED'], body.keys.map((k) => [k.keyId, k.label, when(k.createdAt), when(k.lastUsedAt), when(k.revokedAt)])));
    });
  key.command('revoke <name> <keyId>').description('revoke a key at once (an owner: anyone\'s; anyone: their own). A key id may begin with "-": put `--` before NAME KEYID').option('--json')
    .action(async function (this: Command, name: string, keyId: string) {
      const { body } = await clientFor(this).request<{ key: KeyView }>('POST', `/v1/operators/${enc(name)}/keys/${enc(keyId)}/revoke`);
      out(this, body.key, () => `key ${body.key.keyId} (${body.key.label}) of ${name} revoked`);
    });

  operator.command('rotate-key')
    .description('replace the key you sign with: --key-file is the NEW key (made now unless the file exists); '
      + 'the request is signed with the old key (--old-key-file, default SIKKERKEY_KEY_FILE), which is revoked')
    .option('--old-key-file <file>', 'the key to replace (default: SIKKERKEY_KEY_FILE)')
    .option('--label <label>', 'a name for the new key (default: the old key\'s)')
    .option('--json')
    .action(async function (this: Command, o: { oldKeyFile?: string; label?: string }) {
      const g = globals(this);
      const url = g.url ?? process.env.SIKKERKEY_URL;
      const oldFile = o.oldKeyFile ?? process.env.SIKKERKEY_KEY_FILE;
      const newFile = g.keyFile;
      if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
      if (!newFile) throw new SikkerKeyError('SK_ERR_USAGE', 'give --key-file NEW: the new key\'s file');
      if (!oldFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no old key: set SIKKERKEY_KEY_FILE or pass --old-key-file');
      if (oldFile === newFile) throw new SikkerKeyError('SK_ERR_USAGE', '--key-file must name a new file, not the old key\'s');
      const made = !existsSync(newFile);
      const next: IdentityKey = made ? generateIdentityKey() : readPrivateKeyFile(newFile);
      if (made) writePrivateKeyFile(newFile, next.privateKey);
      const old = readPrivateKeyFile(oldFile);
      try {
        const proof = sign(null, rotationProofMessage(old.keyId, next.keyId), next.privateKey).toString('base64');
        const { body } = await new VaultClient({ url, key: old }).request<{ operator: string; oldKeyId: string; keyId: string }>('POST', '/v1/operator-keys/rotate', {
          publicKey: Buffer.from(next.publicKey).toString('base64'), proof, ...(o.label ? { label: o.label } : {}),
        });
        out(this, { ...body, keyFile: newFile }, () => `${body.operator}: key ${body.keyId} replaces ${body.oldKeyId} (revoked)\nexport SIKKERKEY_KEY_FILE=${newFile}`);
      } catch (err) {
        if (made) unlinkSync(newFile);
        throw err;
      }
    });
}

/** `--url` may be the invitation link (`https://vault/ui/accept#token=…`): its origin and token. */
export function parseInvitationUrl(link: string, token: string | undefined): { url: string; token: string } {
  let parsed: URL;
  try {
    parsed = new URL(link);
  } catch {
    throw new SikkerKeyError('SK_ERR_USAGE', `--url ${JSON.stringify(link)} is not a URL`);
  }
  const fromFragment = new URLSearchParams(parsed.hash.replace(/^#/, '')).get('token') ?? undefined;
  const chosen = token ?? fromFragment;
  if (!chosen) throw new SikkerKeyError('SK_ERR_USAGE', 'give --token, or the invitation URL (…/ui/accept#token=…) as --url');
  return { url: parsed.protocol === 'unix:' ? link : parsed.origin, token: chosen };
}

#!/usr/bin/env node
// sikkerkey: the operator's command line. Every command signs its requests with the operator's
// key (SIKKERKEY_KEY_FILE) and talks to the vault at SIKKERKEY_URL.
import { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { clientFor, globals, out } from './cli-context.js';
import { rotationCommands } from './rotation-commands.js';
import { leaseCommands } from './lease-commands.js';
import { lifecycleCommands } from './lifecycle-commands.js';
import { canaryCommands } from './canary-commands.js';
import { operatorCommands } from './operator-commands.js';
import { trashCommands } from './trash-commands.js';
import { transferCommands } from './transfer-commands.js';
import { webhookCommands } from './webhook-commands.js';
import { auditCommands } from './audit-commands.js';
import { policyCommands } from './policy-commands.js';
import { aiAgentCommands } from './ai-agent-commands.js';
import { packageVersion } from '../http/openapi.js';
import { collect, runCli } from '../../protocol/cli.js';
import { generateIdentityKey, writePrivateKeyFile } from '../../protocol/keys.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { durationArg, table, readStdin } from './cli-format.js';

const program = new Command('sikkerkey')
  .description('SikkerKey operator CLI')
  .option('--url <url>', 'vault URL (default: SIKKERKEY_URL)')
  .option('--key-file <file>', 'operator private key (default: SIKKERKEY_KEY_FILE)')
  .option('--json', 'one JSON document on stdout');

program.command('keygen')
  .description('generate an Ed25519 key pair; the private key is written to FILE (0600)')
  .requiredOption('--out <file>', 'where to write the private key (PKCS#8 PEM)')
  .option('--json', 'one JSON document on stdout')
  .action(function (this: Command, opts: { out: string }) {
    const key = generateIdentityKey();
    writePrivateKeyFile(opts.out, key.privateKey);
    const publicKey = Buffer.from(key.publicKey).toString('base64');
    out(this, { keyId: key.keyId, publicKey }, () => `public key: ${publicKey}\nkey id:     ${key.keyId}\nprivate key written to ${opts.out}`);
  });

// -- projects ----------------------------------------------------------------------------
interface ProjectListed { name: string; keyVersion: number; locked: boolean; lockedReason: string | null; auditRetentionMs: number | null; effectiveAuditRetentionMs: number | null }
const days = (ms: number): string => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${ms}ms`);
/** `800d (own)`, `400d (vault)`, `forever`, or `forever (800d once the vault prunes)`. */
function retentionText(p: ProjectListed): string {
  if (p.effectiveAuditRetentionMs === null) return p.auditRetentionMs === null ? 'forever' : `forever (own ${days(p.auditRetentionMs)} once the vault prunes)`;
  return p.auditRetentionMs !== null && p.auditRetentionMs >= p.effectiveAuditRetentionMs ? `${days(p.effectiveAuditRetentionMs)} (own)` : `${days(p.effectiveAuditRetentionMs)} (vault)`;
}
const project = program.command('project').description('projects');
project.command('create <name>').option('--json').action(async function (this: Command, name: string) {
  const { body } = await clientFor(this).request<{ project: { id: string; name: string } }>('POST', '/v1/projects', { name });
  out(this, body.project, () => `project ${body.project.name} created`);
});
project.command('list').option('--json').action(async function (this: Command) {
  const { body } = await clientFor(this).request<{ projects: ProjectListed[] }>('GET', '/v1/projects');
  out(this, body, () => table(['NAME', 'KEY VERSION', 'LOCKED', 'AUDIT RETENTION'], body.projects.map((p) => [p.name, String(p.keyVersion), p.locked ? `yes (${p.lockedReason ?? ''})` : 'no', retentionText(p)])));
});
project.command('get <name>').description('one project: key version, lock, audit retention').option('--json').action(async function (this: Command, name: string) {
  const { body } = await clientFor(this).request<{ project: ProjectListed }>('GET', `/v1/projects/${enc(name)}`);
  const p = body.project;
  out(this, p, () => [`project ${p.name}`, `key version  ${p.keyVersion}`, `locked       ${p.locked ? `yes (${p.lockedReason ?? ''})` : 'no'}`, `audit kept   ${retentionText(p)}`].join('\n'));
});
project.command('set-audit-retention <name> <retention>')
  .description('keep this project\'s audit events longer than the vault\'s --audit-retention (a duration such as 800d), or "default" for the vault\'s; never shorter (admin)')
  .option('--json')
  .action(async function (this: Command, name: string, retention: string) {
    if (retention !== 'default') durationArg('<retention>')(retention);
    const { body } = await clientFor(this).request<{ project: ProjectListed }>('PUT', `/v1/projects/${enc(name)}/audit-retention`, { retention: retention === 'default' ? null : retention });
    out(this, body.project, () => `project ${name}: audit events kept ${retentionText(body.project)}`);
});
project.command('unlock <name>').requiredOption('--reason <reason>', 'why (audited)').option('--json').action(async function (this: Command, name: string, o: { reason: string }) {
  const { body } = await clientFor(this).request<{ project: unknown }>('POST', `/v1/projects/${enc(name)}/unlock`, { reason: o.reason });
  out(this, body.project, () => `project ${name} unlocked`);
});
project.command('rotate-key <name>').option('--json').action(async function (this: Command, name: string) {
  const { body } = await clientFor(this).request<{ keyVersion: number; rewrapped: number }>('POST', `/v1/projects/${enc(name)}/rotate-key`);
  out(this, body, () => `project ${name}: key version ${body.keyVersion}, ${body.rewrapped} data keys re-wrapped`);
});

// -- secrets -----------------------------------------------------------------------------
const secret = program.command('secret').description('secrets (operators write values; only machines read them)');
secret.command('set <project> <name>')
  .option('--value <value>', 'a plain value (visible in your shell history: prefer --value-stdin)')
  .option('--value-stdin', 'read the plain value from standard input')
  .option('--fields-json <json>', 'a structured secret: a JSON object of string fields (visible to ps: prefer --fields-json-stdin)')
  .option('--fields-json-stdin', 'read the structured secret\'s JSON object from standard input')
  .option('--json')
  .action(async function (this: Command, projectName: string, name: string, o: { value?: string; valueStdin?: boolean; fieldsJson?: string; fieldsJsonStdin?: boolean }) {
    const given = [o.value !== undefined, Boolean(o.valueStdin), o.fieldsJson !== undefined, Boolean(o.fieldsJsonStdin)].filter(Boolean).length;
    if (given !== 1) throw new SikkerKeyError('SK_ERR_USAGE', 'give exactly one of --value, --value-stdin, --fields-json, --fields-json-stdin');
    let body: { value: string } | { fields: Record<string, string> };
    const fieldsText = o.fieldsJsonStdin ? await readStdin() : o.fieldsJson;
    if (fieldsText !== undefined) {
      let fields: unknown;
      try { fields = JSON.parse(fieldsText); } catch { throw new SikkerKeyError('SK_ERR_USAGE', 'the fields are not valid JSON'); }
      if (!fields || typeof fields !== 'object' || Array.isArray(fields) || Object.values(fields).some((v) => typeof v !== 'string')) {
        throw new SikkerKeyError('SK_ERR_USAGE', '--fields-json must be an object whose values are all strings');
      }
      body = { fields: fields as Record<string, string> };
    } else {
      body = { value: o.value ?? (await readStdin()).replace(/\r?\n$/, '') };
    }
    const res = await clientFor(this).request<{ version: number }>('PUT', `/v1/projects/${enc(projectName)}/secrets/${enc(name)}`, body);
    out(this, res.body, () => `${projectName}/${name}: version ${res.body.version}`);
  });
secret.command('list <project>').option('--json').action(async function (this: Command, projectName: string) {
  const { body } = await clientFor(this).request<{ secrets: Array<{ name: string; kind: string; version: number | null; isCanary?: boolean; policy?: string }> }>('GET', `/v1/projects/${enc(projectName)}/secrets`);
  out(this, body, () => table(['NAME', 'KIND', 'VERSION', 'CANARY', 'POLICY'], body.secrets.map((s) => [s.name, s.kind, String(s.version ?? '-'), s.isCanary ? 'yes' : '', s.policy ?? ''])));
});
secret.command('versions <project> <name>').option('--json').action(async function (this: Command, projectName: string, name: string) {
  const { body } = await clientFor(this).request<{ versions: Array<{ version: number; state: string; createdAt: number }> }>('GET', `/v1/projects/${enc(projectName)}/secrets/${enc(name)}/versions`);
  out(this, body, () => table(['VERSION', 'STATE', 'CREATED'], body.versions.map((v) => [String(v.version), v.state, new Date(v.createdAt).toISOString()])));
});
secret.command('rollback <project> <name>').requiredOption('--to <n>', 'the version to make live again').option('--json').action(async function (this: Command, projectName: string, name: string, o: { to: string }) {
  const to = Number(o.to);
  if (!Number.isInteger(to) || to < 1) throw new SikkerKeyError('SK_ERR_USAGE', '--to takes a version number');
  const { body } = await clientFor(this).request<{ version: number }>('POST', `/v1/projects/${enc(projectName)}/secrets/${enc(name)}/rollback`, { to });
  out(this, body, () => `${projectName}/${name}: version ${body.version} is live`);
});

// -- machines ----------------------------------------------------------------------------
const machine = program.command('machine').description('machines (workloads and agents)');
machine.command('add <name>').requiredOption('--public-key <key>', 'the machine\'s Ed25519 public key')
  .option('--label <label>', 'a label (repeatable)', collect).option('--expires-in <duration>', 'lifetime, at least 1m, e.g. 30d (leave out: never expires)', durationArg('--expires-in')).option('--json')
  .action(async function (this: Command, name: string, o: { publicKey: string; label?: string[]; expiresIn?: string }) {
    const { body } = await clientFor(this).request<{ id: string; name: string; keyId: string }>('POST', '/v1/machines', {
      name, publicKey: o.publicKey, labels: o.label ?? [], ...(o.expiresIn ? { expiresIn: o.expiresIn } : {}),
    });
    out(this, body, () => `machine ${body.name} added (key id ${body.keyId})`);
  });
machine.command('list').option('--json').action(async function (this: Command) {
  const { body } = await clientFor(this).request<{ machines: Array<{ name: string; status: string; labels: string[]; lastSeenAt: number | null; expiresAt: number | null }> }>('GET', '/v1/machines');
  out(this, body, () => table(['NAME', 'STATUS', 'LABELS', 'LAST SEEN', 'EXPIRES'], body.machines.map((m) => [
    m.name, m.status, m.labels.join(','), m.lastSeenAt ? new Date(m.lastSeenAt).toISOString() : 'never', m.expiresAt ? new Date(m.expiresAt).toISOString() : '-',
  ])));
});
for (const [verb, what] of [['approve', 'let a machine waiting for approval (or disabled before it was approved) read'], ['disable', 'stop a machine from authenticating'], ['enable', 're-enable a disabled machine (e.g. after a canary trip); one never approved needs `machine approve` instead']] as const) {
  machine.command(`${verb} <name>`).description(what).option('--json').action(async function (this: Command, name: string) {
    const { body } = await clientFor(this).request<{ machine: { name: string; status: string } }>('POST', `/v1/machines/${enc(name)}/${verb}`);
    out(this, body.machine, () => `machine ${body.machine.name} is ${body.machine.status}`);
  });
}

// -- grants ------------------------------------------------------------------------------
const grant = program.command('grant').description('what machines may read');
grant.command('add [machine]').description('grant a machine — or, with --label, every active machine carrying that label — a project, a secret or some fields; or a machine a lease role (--lease-role)')
  .requiredOption('--project <project>').option('--secret <secret>').option('--fields <a,b>', 'only these fields of a structured secret')
  .option('--label <label>', 'grant every active machine with this label (never one pending approval) instead of one machine')
  .option('--lease-role <role>', 'let the machine lease logins of this lease role (docs/leases.md); removing the grant revokes its leases').option('--json')
  .action(async function (this: Command, machineName: string | undefined, o: { project: string; secret?: string; fields?: string; label?: string; leaseRole?: string }) {
    if ((machineName === undefined) === (o.label === undefined)) throw new SikkerKeyError('SK_ERR_USAGE', 'grant add takes a MACHINE or --label LABEL (one of them)');
    const fields = o.fields?.split(',').map((f) => f.trim()).filter(Boolean);
    const { body } = await clientFor(this).request<{ grant: unknown }>('POST', '/v1/grants', {
      ...(machineName !== undefined ? { machine: machineName } : { label: o.label }), project: o.project, ...(o.secret ? { secret: o.secret } : {}), ...(fields ? { fields } : {}),
      ...(o.leaseRole ? { leaseRole: o.leaseRole } : {}),
    });
    out(this, body.grant, () => `granted ${machineName ?? `label ${o.label}`}: ${o.project}${o.leaseRole ? ` lease role ${o.leaseRole}` : ''}${o.secret ? '/' + o.secret : ''}${fields ? ' fields ' + fields.join(',') : ''}`);
  });
grant.command('list').option('--machine <machine>', 'this machine\'s grants, its labels\' included').option('--project <project>').option('--label <label>', 'the grants of this label').option('--json').action(async function (this: Command, o: { machine?: string; project?: string; label?: string }) {
  const qs = new URLSearchParams({ ...(o.machine ? { machine: o.machine } : {}), ...(o.project ? { project: o.project } : {}), ...(o.label ? { label: o.label } : {}) }).toString();
  const { body } = await clientFor(this).request<{ grants: Array<{ id: string; machine: string | null; label?: string; project: string; secret: string | null; fields: string[] | null; leaseRole?: string }> }>('GET', `/v1/grants${qs ? '?' + qs : ''}`);
  out(this, body, () => table(['ID', 'MACHINE', 'PROJECT', 'SECRET', 'FIELDS'], body.grants.map((g) => [g.id, g.machine ?? `label:${g.label ?? ''}`, g.project, g.leaseRole !== undefined ? `lease-role:${g.leaseRole}` : g.secret ?? '*', g.fields?.join(',') ?? '*'])));
});
grant.command('remove <id>').option('--json').action(async function (this: Command, id: string) {
  await clientFor(this).request('DELETE', `/v1/grants/${enc(id)}`);
  out(this, { removed: id }, () => `grant ${id} removed`);
});

auditCommands(program);

// -- MCP server for AI agents ----------------------------------------------------------------
program.command('mcp')
  .description('serve the Model Context Protocol on stdin/stdout for an AI assistant, signed with an AI agent\'s key '
    + '(--key-file, else SIKKERKEY_AI_AGENT_KEY_FILE; never SIKKERKEY_KEY_FILE, the operator\'s). No tool returns a secret value.')
  .action(async function (this: Command) {
    const g = globals(this);
    const url = g.url ?? process.env.SIKKERKEY_URL;
    // Deliberately not SIKKERKEY_KEY_FILE: an assistant must not inherit an operator's key by accident.
    const keyFile = g.keyFile ?? process.env.SIKKERKEY_AI_AGENT_KEY_FILE;
    if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
    if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no AI agent key: pass --key-file or set SIKKERKEY_AI_AGENT_KEY_FILE');
    const { serveMcp } = await import('./mcp-server.js');
    await serveMcp({ url, keyFile, version: packageVersion() });
  });

rotationCommands(program);
leaseCommands(program);
lifecycleCommands(program);
canaryCommands(program);
operatorCommands(program);
trashCommands(program);
transferCommands(program);
webhookCommands(program);
policyCommands(program);
aiAgentCommands(program);

await runCli(program);

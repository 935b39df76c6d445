import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { collect } from '../../protocol/cli.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { durationArg, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

interface TokenRow {
  id: string; name: string | null; grants: Array<{ project: string; secret: string | null }>; uses: number; maxUses: number | null;
  expiresAt: number; state: string; requiresApproval: boolean; labels: string[];
}

interface ExtensionRow {
  id: string; previousExpiresAt: number | null; newExpiresAt: number | null; reason: string | null; actor: string;
  createdAt: number; revertedAt: number | null;
}

const iso = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString());

/** `--ip 10.0.0.0/8,192.0.2.7` and repeated flags alike: one flat list. */
function commaList(values: string[] | undefined): string[] | undefined {
  const flat = values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  return flat && flat.length > 0 ? flat : undefined;
}

function tokenTable(tokens: TokenRow[]): string {
  return table(['ID', 'NAME', 'GRANTS', 'USES', 'STATE', 'EXPIRES', 'APPROVAL'], tokens.map((t) => [
    t.id, t.name ?? '', t.grants.map((g) => `${g.project}/${g.secret ?? '*'}`).join(','), `${t.uses}/${t.maxUses ?? '∞'}`,
    t.state, iso(t.expiresAt), t.requiresApproval ? 'required' : 'no',
  ]));
}

function shownOnce(kind: string, body: { id: string; token: string; expiresAt: number }): string {
  return [
    `${kind} token ${body.id} created (expires ${iso(body.expiresAt)}). It is shown once; the vault keeps only its hash:`,
    `  ${body.token}`,
  ].join('\n');
}

/**
 * `sikkerkey enroll-token …`, `sikkerkey bootstrap-token …` and the lifecycle verbs of
 * `sikkerkey machine …` (extend, history, revert-extension, remove, rename). DESIGN §7, docs/machine-lifecycle.md.
 */
export function lifecycleCommands(program: Command): void {
  // -- enrollment tokens (fleets) ----------------------------------------------------------
  const enroll = program.command('enroll-token').description('enrollment tokens: fleets of machines that register themselves');
  enroll.command('create')
    .requiredOption('--project <project>', 'the project its machines are granted')
    .option('--secret <secret>', 'grant only this secret (repeatable); without it the whole project', collect)
    .option('--label <label>', 'a label its machines get (repeatable)', collect)
    .requiredOption('--machine-lifetime <duration>', 'each machine expires this long after it enrolls, e.g. 2h', durationArg('--machine-lifetime'))
    .option('--hostname-regex <regex>', 'the stated hostname must match it whole, case-insensitively (RE2 syntax, linear time: no look-around or back-references; advisory: the host states it)')
    .option('--source-cidr <cidrs>', 'the registration must come from these ranges (comma-separated or repeated)', collect)
    .option('--name-template <template>', 'machine names, e.g. ci-{hostname}-{rand4} ({hostname} {rand4} {n} {date})')
    .option('--max-uses <n>', 'how many machines it may enroll (default unlimited)')
    .option('--expires-in <duration>', 'how long the token can be used (default 7d)', durationArg('--expires-in'))
    .option('--name <name>', 'a name for lists and the audit log')
    .option('--json')
    .action(async function (this: Command, o: {
      project: string; secret?: string[]; label?: string[]; machineLifetime: string; hostnameRegex?: string; sourceCidr?: string[];
      nameTemplate?: string; maxUses?: string; expiresIn?: string; name?: string;
    }) {
      let maxUses: number | undefined;
      if (o.maxUses !== undefined) {
        maxUses = Number(o.maxUses);
        if (!Number.isInteger(maxUses) || maxUses < 1) throw new SikkerKeyError('SK_ERR_USAGE', '--max-uses takes a whole number of at least 1');
      }
      const cidrs = commaList(o.sourceCidr);
      const { body } = await clientFor(this).request<{ id: string; token: string; expiresAt: number }>('POST', '/v1/enrollment-tokens', {
        project: o.project, machineLifetime: o.machineLifetime,
        ...(o.secret ? { secrets: o.secret } : {}), ...(o.label ? { labels: o.label } : {}),
        ...(o.hostnameRegex !== undefined ? { hostnameRegex: o.hostnameRegex } : {}), ...(cidrs ? { sourceCidrs: cidrs } : {}),
        ...(o.nameTemplate !== undefined ? { nameTemplate: o.nameTemplate } : {}), ...(maxUses !== undefined ? { maxUses } : {}),
        ...(o.expiresIn !== undefined ? { expiresIn: o.expiresIn } : {}), ...(o.name !== undefined ? { name: o.name } : {}),
      });
      out(this, { id: body.id, token: body.token }, () => shownOnce('enrollment', body));
    });
  enroll.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ tokens: TokenRow[] }>('GET', '/v1/enrollment-tokens');
    out(this, body, () => tokenTable(body.tokens));
  });
  enroll.command('revoke <id>').description('no further machines may enroll with it (enrolled ones stay)').option('--json')
    .action(async function (this: Command, id: string) {
      const { body } = await clientFor(this).request<{ token: TokenRow }>('POST', `/v1/enrollment-tokens/${enc(id)}/revoke`);
      out(this, body.token, () => `enrollment token ${body.token.id} revoked`);
    });

  // -- temp-bootstrap tokens (one machine) --------------------------------------------------
  const boot = program.command('bootstrap-token').description('single-use tokens that mint one short-lived machine with guardrails');
  boot.command('create')
    .requiredOption('--project <project>', 'the project its machine is granted')
    .option('--secret <secret>', 'grant only this secret (repeatable); without it the whole project', collect)
    .option('--label <label>', 'a label the machine gets (repeatable)', collect)
    .requiredOption('--lifetime <duration>', 'the machine\'s lifetime, 1h to 365d (12 months)', durationArg('--lifetime'))
    .option('--ip <cidrs>', 'IP allowlist for every request of the machine (comma-separated CIDRs)', collect)
    .option('--country <codes>', 'ISO-3166 country allowlist, e.g. NO,SE (the vault needs --geoip-db)', collect)
    .option('--window <window>', 'time-of-day window, e.g. \'Mon-Fri 08:00-18:00 Europe/Oslo\'')
    .option('--no-approval', 'the machine is active at once instead of waiting for `machine approve`')
    .option('--name-template <template>', 'the machine\'s name ({hostname} {rand4} {n} {date}); default {hostname}-{rand4}')
    .option('--expires-in <duration>', 'how long the token can be used (default 24h)', durationArg('--expires-in'))
    .option('--name <name>', 'a name for lists and the audit log')
    .option('--json')
    .action(async function (this: Command, o: {
      project: string; secret?: string[]; label?: string[]; lifetime: string; ip?: string[]; country?: string[]; window?: string;
      approval: boolean; nameTemplate?: string; expiresIn?: string; name?: string;
    }) {
      const ips = commaList(o.ip);
      const countries = commaList(o.country);
      const { body } = await clientFor(this).request<{ id: string; token: string; expiresAt: number }>('POST', '/v1/bootstrap-tokens', {
        project: o.project, lifetime: o.lifetime,
        ...(o.secret ? { secrets: o.secret } : {}), ...(o.label ? { labels: o.label } : {}),
        ...(ips ? { ipAllowlist: ips } : {}), ...(countries ? { countryAllowlist: countries } : {}),
        ...(o.window !== undefined ? { timeWindow: o.window } : {}), ...(o.approval === false ? { noApproval: true } : {}),
        ...(o.nameTemplate !== undefined ? { nameTemplate: o.nameTemplate } : {}),
        ...(o.expiresIn !== undefined ? { expiresIn: o.expiresIn } : {}), ...(o.name !== undefined ? { name: o.name } : {}),
      });
      out(this, { id: body.id, token: body.token }, () => shownOnce('bootstrap', body));
    });
  boot.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ tokens: TokenRow[] }>('GET', '/v1/bootstrap-tokens');
    out(this, body, () => tokenTable(body.tokens));
  });
  boot.command('revoke <id>').description('the token can no longer mint its machine').option('--json')
    .action(async function (this: Command, id: string) {
      const { body } = await clientFor(this).request<{ token: TokenRow }>('POST', `/v1/bootstrap-tokens/${enc(id)}/revoke`);
      out(this, body.token, () => `bootstrap token ${body.token.id} revoked`);
    });

  // -- machine lifetime: extend / history / revert-extension ---------------------------------
  const machine = program.commands.find((c) => c.name() === 'machine') ?? program.command('machine').description('machines (workloads and agents)');
  machine.command('extend <name>').description('move a machine\'s expiry later (audited with the reason)')
    .requiredOption('--by <duration>', 'how much later, e.g. 30d', durationArg('--by'))
    .requiredOption('--reason <reason>', 'why (kept in the extension history and the audit log)')
    .option('--json')
    .action(async function (this: Command, name: string, o: { by: string; reason: string }) {
      const { body } = await clientFor(this).request<{ machine: { name: string; expiresAt: number | null; status: string; extensionId: string } }>(
        'POST', `/v1/machines/${enc(name)}/extend`, { by: o.by, reason: o.reason });
      out(this, body.machine, () => `machine ${body.machine.name} now expires ${iso(body.machine.expiresAt)} (${body.machine.status})`);
    });
  machine.command('history <name>').description('a machine\'s extensions, reverted ones included').option('--json')
    .action(async function (this: Command, name: string) {
      const { body } = await clientFor(this).request<{ machine: string; expiresAt: number | null; extensions: ExtensionRow[] }>(
        'GET', `/v1/machines/${enc(name)}/extensions`);
      out(this, body, () => `machine ${body.machine} expires ${iso(body.expiresAt)}\n` + table(['WHEN', 'FROM', 'TO', 'BY', 'REASON', 'REVERTED'], body.extensions.map((e) => [
        iso(e.createdAt), iso(e.previousExpiresAt), iso(e.newExpiresAt), e.actor, e.reason ?? '', e.revertedAt ? iso(e.revertedAt) : '',
      ])));
    });
  machine.command('revert-extension <name>').description('undo the machine\'s last extension that is not reverted yet')
    .option('--reason <reason>', 'why (audited)')
    .option('--json')
    .action(async function (this: Command, name: string, o: { reason?: string }) {
      const { body } = await clientFor(this).request<{ machine: { name: string; expiresAt: number | null; status: string } }>(
        'POST', `/v1/machines/${enc(name)}/revert-extension`, o.reason !== undefined ? { reason: o.reason } : {});
      out(this, body.machine, () => `machine ${body.machine.name} expires ${iso(body.machine.expiresAt)} again (${body.machine.status})`);
    });

  // -- machine remove / rename -------------------------------------------------------------
  machine.command('remove <name>').description('delete a machine: its key and grants go, its audit trail stays')
    .option('--force', 'also when a rotation policy names it as its agent: those policies are paused (machine_removed); never while a lease role names it (name another agent first)')
    .option('--json')
    .action(async function (this: Command, name: string, o: { force?: boolean }) {
      const { body } = await clientFor(this).request<{ removed: { name: string; grantsRemoved: number; pausedPolicies: Array<{ project: string; secret: string }>; unfinishedRotations: Array<{ rotationId: string; project: string; secret: string; state: string }> } }>(
        'DELETE', `/v1/machines/${enc(name)}${o.force ? '?force=true' : ''}`);
      const r = body.removed;
      out(this, r, () => [
        `machine ${r.name} removed (${r.grantsRemoved} grant${r.grantsRemoved === 1 ? '' : 's'} with it)`,
        ...r.pausedPolicies.map((p) => `rotation policy ${p.project}/${p.secret} paused: it has no agent now (name one: rotation set … --agent M)`),
        ...r.unfinishedRotations.map((u) => `rotation ${u.rotationId} of ${u.project}/${u.secret} is ${u.state}: a new agent picks it up, or check the database and rotation resolve`),
      ].join('\n'));
    });
  machine.command('rename <name> <new-name>').description('give a machine a new name; its key, grants and rotation policies stay').option('--json')
    .action(async function (this: Command, name: string, newName: string) {
      const { body } = await clientFor(this).request<{ machine: { name: string } }>('POST', `/v1/machines/${enc(name)}/rename`, { name: newName });
      out(this, body.machine, () => `machine ${name} is now ${body.machine.name}`);
    });
}

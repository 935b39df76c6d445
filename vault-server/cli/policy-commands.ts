import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { parseDuration } from '../../protocol/duration.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { collect } from '../../protocol/cli.js';
import { durationArg, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

interface PolicyView {
  name: string; project: string; timeWindow: string | null; ipAllowlist: string[] | null;
  rateCap: { maxReadsPerMinute: number | null; maxReadsPerDay: number | null } | null;
  coSign: { windowSeconds: number; machine: string | null } | null;
  ttl: { expiresAt: string | null; maxReads: number | null } | null;
  rotateAfterReads: number | null; secrets: string[];
}
interface Counters { secret: string; readsServed: number; readsSinceRotation: number; readsLastMinute: number; readsLast24h: number; cosignsOpen: number; expired: boolean }

interface AxisOpts {
  timeWindow?: string; allowCidr?: string[]; maxReadsPerMinute?: string; maxReadsPerDay?: string;
  cosignMachine?: string; cosignWindow?: string; expiresAt?: string; maxReads?: string; rotateAfterReads?: string; clear?: string[];
}

const AXES = ['timeWindow', 'ipAllowlist', 'rateCap', 'coSign', 'ttl', 'rotateAfterReads'] as const;

function count(flag: string, value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1) throw new SikkerKeyError('SK_ERR_USAGE', `${flag} takes a whole number of at least 1`);
  return Number(value);
}

/** The request body the axis flags describe (only the axes given; `--clear AXIS` sends null). */
function bodyOf(o: AxisOpts): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (o.timeWindow !== undefined) body['timeWindow'] = o.timeWindow;
  if (o.allowCidr !== undefined) body['ipAllowlist'] = o.allowCidr;
  if (o.maxReadsPerMinute !== undefined || o.maxReadsPerDay !== undefined) {
    body['rateCap'] = {
      ...(o.maxReadsPerMinute !== undefined ? { maxReadsPerMinute: count('--max-reads-per-minute', o.maxReadsPerMinute) } : {}),
      ...(o.maxReadsPerDay !== undefined ? { maxReadsPerDay: count('--max-reads-per-day', o.maxReadsPerDay) } : {}),
    };
  }
  if (o.cosignMachine !== undefined || o.cosignWindow !== undefined) {
    const ms = parseDuration(o.cosignWindow ?? '60s', '--cosign-window');
    if (ms < 1000 || ms % 1000 !== 0) throw new SikkerKeyError('SK_ERR_USAGE', '--cosign-window takes whole seconds, at least 1s');
    body['coSign'] = { windowSeconds: ms / 1000, ...(o.cosignMachine !== undefined ? { machine: o.cosignMachine } : {}) };
  }
  if (o.expiresAt !== undefined || o.maxReads !== undefined) {
    body['ttl'] = { ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt } : {}), ...(o.maxReads !== undefined ? { maxReads: count('--max-reads', o.maxReads) } : {}) };
  }
  if (o.rotateAfterReads !== undefined) body['rotateAfterReads'] = count('--rotate-after-reads', o.rotateAfterReads);
  for (const axis of o.clear ?? []) {
    if (!(AXES as readonly string[]).includes(axis)) throw new SikkerKeyError('SK_ERR_USAGE', `--clear takes one of ${AXES.join(', ')}`);
    if (axis in body) throw new SikkerKeyError('SK_ERR_USAGE', `--clear ${axis} and a flag that sets ${axis} cannot be combined`);
    body[axis] = null;
  }
  return body;
}

function withAxisFlags(cmd: Command): Command {
  return cmd
    .option('--time-window <window>', 'reads only then: "[DAYS ]HH:MM-HH:MM ZONE", e.g. "Mon-Fri 08:00-18:00 Europe/Oslo"')
    .option('--allow-cidr <cidr>', 'reads only from this network (repeatable; IPv4 or IPv6)', collect)
    .option('--max-reads-per-minute <n>', 'at most N served reads in any 60 s (all machines)')
    .option('--max-reads-per-day <n>', 'at most N served reads in any 24 h (all machines)')
    .option('--cosign-machine <machine>', 'a read needs this machine\'s co-sign (default: any other active machine)')
    .option('--cosign-window <duration>', 'how long a co-sign stays usable (default 60s)', durationArg('--cosign-window'))
    .option('--expires-at <rfc3339>', 'the secret answers 410 from then on')
    .option('--max-reads <n>', 'the secret answers 410 once N reads were served')
    .option('--rotate-after-reads <n>', 'queue one rotation every N served reads')
    .option('--json');
}

function describe(p: PolicyView): string {
  const axes = [
    p.timeWindow !== null ? `timeWindow: ${p.timeWindow}` : '',
    p.ipAllowlist !== null ? `ipAllowlist: ${p.ipAllowlist.join(', ')}` : '',
    p.rateCap !== null ? `rateCap: ${p.rateCap.maxReadsPerMinute ?? '-'}/min, ${p.rateCap.maxReadsPerDay ?? '-'}/day` : '',
    p.coSign !== null ? `coSign: ${p.coSign.machine ?? 'any other machine'} within ${p.coSign.windowSeconds}s` : '',
    p.ttl !== null ? `ttl: ${p.ttl.expiresAt ?? 'no expiry time'}, ${p.ttl.maxReads ?? 'no'} read limit` : '',
    p.rotateAfterReads !== null ? `rotateAfterReads: ${p.rotateAfterReads}` : '',
  ].filter((a) => a.length > 0);
  return `policy ${p.project}/${p.name}${axes.length ? `\n  ${axes.join('\n  ')}` : ' (no axis set)'}\n  bound to: ${p.secrets.join(', ') || '(none)'}`;
}

/**
 * `sikkerkey policy …` (issue 24): access policies — when, from where, how often and how many
 * times a bound secret may be read (README "Access policies").
 *
 * @example
 *   sikkerkey policy create shop office-hours --time-window 'Mon-Fri 08:00-18:00 Europe/Oslo' --json
 *   sikkerkey policy bind shop office-hours --secret db
 */
export function policyCommands(program: Command): void {
  const policy = program.command('policy').description('access policies: time windows, networks, read caps, co-signing, expiry, rotate-after-reads');

  withAxisFlags(policy.command('create <project> <name>').description('create an access policy (every axis optional)'))
    .action(async function (this: Command, project: string, name: string, o: AxisOpts) {
      const { body } = await clientFor(this).request<{ policy: PolicyView }>('POST', `/v1/projects/${enc(project)}/policies`, { name, ...bodyOf(o) });
      out(this, body.policy, () => describe(body.policy));
    });

  withAxisFlags(policy.command('update <project> <name>').description('change the axes given (each replaced as a whole); --clear AXIS removes one'))
    .option('--clear <axis>', `remove an axis (repeatable): ${AXES.join(', ')}`, collect)
    .action(async function (this: Command, project: string, name: string, o: AxisOpts) {
      const patch = bodyOf(o);
      if (Object.keys(patch).length === 0) throw new SikkerKeyError('SK_ERR_USAGE', 'policy update needs at least one axis flag or --clear');
      const { body } = await clientFor(this).request<{ policy: PolicyView }>('PATCH', `/v1/projects/${enc(project)}/policies/${enc(name)}`, patch);
      out(this, body.policy, () => describe(body.policy));
    });

  policy.command('list <project>').description('the access policies of a project').option('--json').action(async function (this: Command, project: string) {
    const { body } = await clientFor(this).request<{ policies: PolicyView[] }>('GET', `/v1/projects/${enc(project)}/policies`);
    out(this, body, () => table(['NAME', 'AXES', 'SECRETS'], body.policies.map((p) => [p.name,
      AXES.filter((a) => (p as unknown as Record<string, unknown>)[a] !== null).join(',') || '-', p.secrets.join(',') || '-'])));
  });

  policy.command('get <project> <name>').description('one access policy, with the live counters of each secret bound to it').option('--json').action(async function (this: Command, project: string, name: string) {
    const { body } = await clientFor(this).request<{ policy: PolicyView; counters: Counters[] }>('GET', `/v1/projects/${enc(project)}/policies/${enc(name)}`);
    out(this, body, () => `${describe(body.policy)}\n${table(['SECRET', 'SERVED', 'SINCE ROTATION', 'LAST MIN', 'LAST 24H', 'OPEN CO-SIGNS', 'EXPIRED'],
      body.counters.map((c) => [c.secret, String(c.readsServed), String(c.readsSinceRotation), String(c.readsLastMinute), String(c.readsLast24h), String(c.cosignsOpen), c.expired ? 'yes' : '']))}`);
  });

  policy.command('delete <project> <name>').description('delete an access policy (refused while a secret is bound to it)').option('--json').action(async function (this: Command, project: string, name: string) {
    const { body } = await clientFor(this).request<{ removed: string }>('DELETE', `/v1/projects/${enc(project)}/policies/${enc(name)}`);
    out(this, body, () => `policy ${project}/${name} deleted`);
  });

  policy.command('bind <project> <policy>').description('bind the policy to a secret of the same project (its counters start at zero)')
    .requiredOption('--secret <name>', 'the secret').option('--json')
    .action(async function (this: Command, project: string, name: string, o: { secret: string }) {
      const { body } = await clientFor(this).request<{ policy: string; previous: string | null }>('PUT', `/v1/projects/${enc(project)}/policies/bindings/${enc(o.secret)}`, { policy: name });
      out(this, body, () => `${project}/${o.secret}: policy ${name}${body.previous ? ` (was ${body.previous})` : ''}`);
    });

  policy.command('unbind <project>').description('remove the policy bound to a secret').requiredOption('--secret <name>', 'the secret').option('--json')
    .action(async function (this: Command, project: string, o: { secret: string }) {
      const { body } = await clientFor(this).request<{ policy: string | null }>('DELETE', `/v1/projects/${enc(project)}/policies/bindings/${enc(o.secret)}`);
      out(this, body, () => (body.policy === null ? `${project}/${o.secret} had no policy` : `${project}/${o.secret}: policy ${body.policy} unbound`));
    });
}

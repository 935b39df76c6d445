/**
 * `sikkerkey lease-role …` and `sikkerkey lease …` (docs/leases.md): lease roles (admin+
 * operators) and the operators' view of leases — list (never values) and revoke.
 */
import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { ENGINES, LEASE_STATES } from '../../protocol/api-types.js';
import type { Lease, LeaseGrant, LeaseRoleView, LeaseSummary } from '../../protocol/api-types.js';
import { durationArg, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

interface CreateOpts {
  provider: string; agent?: string; agentLabel?: string; adminSecret: string; ttl: string; maxTtl: string; maxLeases?: string; maxLeasesPerMachine?: string;
  memberOf?: string; grantRole?: string; acl?: string; role?: string[];
}

const rolePath = (project: string, name?: string): string => `/v1/projects/${enc(project)}/lease-roles${name !== undefined ? `/${enc(name)}` : ''}`;
const iso = (ms: number | null): string => (ms !== null ? new Date(ms).toISOString() : '-');

/** The engine's grant from the flags; exactly one of them, the one that fits --provider. */
export function grantFromFlags(o: Pick<CreateOpts, 'provider' | 'memberOf' | 'grantRole' | 'acl' | 'role'>): LeaseGrant {
  const given = [o.memberOf !== undefined, o.grantRole !== undefined, o.acl !== undefined, (o.role ?? []).length > 0].filter(Boolean).length;
  if (given !== 1) throw new SikkerKeyError('SK_ERR_USAGE', 'give exactly one of --member-of (postgres, supabase), --grant-role (mysql), --acl (redis), --role ROLE@DB (mongodb; repeatable)');
  if (o.memberOf !== undefined) return { memberOf: o.memberOf };
  if (o.grantRole !== undefined) return { grantRole: o.grantRole };
  if (o.acl !== undefined) return { acl: o.acl };
  return {
    roles: (o.role ?? []).map((r) => {
      const at = r.lastIndexOf('@');
      if (at <= 0 || at === r.length - 1) throw new SikkerKeyError('SK_ERR_USAGE', `--role ${JSON.stringify(r)}: ROLE@DB, e.g. readWrite@app`);
      return { role: r.slice(0, at), db: r.slice(at + 1) };
    }),
  };
}

const describeGrant = (g: LeaseGrant): string =>
  'memberOf' in g ? `member of ${g.memberOf}` : 'grantRole' in g ? `role ${g.grantRole}` : 'acl' in g ? `acl ${g.acl}` : g.roles.map((r) => `${r.role}@${r.db}`).join(',');

export function leaseCommands(program: Command): void {
  const role = program.command('lease-role').description('lease roles: what a leased database login of a project gets (admin+ operators)');

  role.command('create <project> <name>').description('create or replace a lease role')
    .requiredOption('--provider <engine>', ENGINES.join(' | '))
    .option('--agent <machine>', 'the agent machine that creates the logins')
    .option('--agent-label <label>', 'or: any active machine with this label')
    .requiredOption('--admin-secret <name>', 'a structured secret in the project holding the admin credential (host, port, username, password…)')
    .option('--ttl <duration>', 'a lease\'s lifetime unless the machine asks for less, e.g. 1h', durationArg('--ttl'), '1h')
    .option('--max-ttl <duration>', 'the longest a lease can be renewed to, from its creation, e.g. 24h', durationArg('--max-ttl'), '24h')
    .option('--max-leases <n>', 'at most this many live leases of the role (409 beyond)')
    .option('--max-leases-per-machine <n>', 'at most this many live leases of the role per machine (429 beyond; default 10)')
    .option('--member-of <role>', 'postgres/supabase: the role the login is IN ROLE of')
    .option('--grant-role <role>', 'mysql: the role granted (and set as default role)')
    .option('--acl <rules>', 'redis: ACL rules such as \'~app:* +@read\' (no passwords or on/off)')
    .option('--role <role@db>', 'mongodb: a role to give, e.g. readWrite@app (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json')
    .action(async function (this: Command, project: string, name: string, o: CreateOpts) {
      if ((o.agent === undefined) === (o.agentLabel === undefined)) throw new SikkerKeyError('SK_ERR_USAGE', 'name the agent: exactly one of --agent MACHINE or --agent-label L');
      let maxLeases: number | undefined;
      if (o.maxLeases !== undefined) {
        maxLeases = Number(o.maxLeases);
        if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new SikkerKeyError('SK_ERR_USAGE', '--max-leases takes a positive whole number');
      }
      let maxLeasesPerMachine: number | undefined;
      if (o.maxLeasesPerMachine !== undefined) {
        maxLeasesPerMachine = Number(o.maxLeasesPerMachine);
        if (!Number.isInteger(maxLeasesPerMachine) || maxLeasesPerMachine < 1) throw new SikkerKeyError('SK_ERR_USAGE', '--max-leases-per-machine takes a positive whole number');
      }
      const body = {
        engine: o.provider, adminSecret: o.adminSecret, ttl: o.ttl, maxTtl: o.maxTtl, grant: grantFromFlags(o),
        ...(o.agent !== undefined ? { agentMachine: o.agent } : { agentLabel: o.agentLabel }), ...(maxLeases !== undefined ? { maxLeases } : {}),
        ...(maxLeasesPerMachine !== undefined ? { maxLeasesPerMachine } : {}),
      };
      const { body: res } = await clientFor(this).request<{ role: LeaseRoleView }>('PUT', rolePath(project, name), body);
      out(this, res.role, () => `lease role ${project}/${name} saved (${res.role.engine}, ${describeGrant(res.role.grant)}, ttl ${res.role.ttlMs / 1000}s, max ${res.role.maxTtlMs / 1000}s)`);
    });

  role.command('list <project>').description('the lease roles of a project').option('--json')
    .action(async function (this: Command, project: string) {
      const { body } = await clientFor(this).request<{ roles: LeaseRoleView[] }>('GET', rolePath(project));
      out(this, body, () => table(['NAME', 'ENGINE', 'AGENT', 'ADMIN SECRET', 'TTL', 'MAX TTL', 'MAX LEASES', 'GRANT'], body.roles.map((r) => [
        r.name, r.engine, r.agentMachine ?? `label:${r.agentLabel ?? ''}`, r.adminSecret, `${r.ttlMs / 1000}s`, `${r.maxTtlMs / 1000}s`, r.maxLeases === undefined ? '-' : String(r.maxLeases), describeGrant(r.grant),
      ])));
    });

  role.command('get <project> <name>').description('one lease role').option('--json')
    .action(async function (this: Command, project: string, name: string) {
      const { body } = await clientFor(this).request<{ role: LeaseRoleView }>('GET', rolePath(project, name));
      out(this, body.role, () => JSON.stringify(body.role, null, 2));
    });

  role.command('delete <project> <name>').description('delete a lease role (refused while it has live leases: revoke them first)').option('--json')
    .action(async function (this: Command, project: string, name: string) {
      const { body } = await clientFor(this).request<{ deleted: boolean }>('DELETE', rolePath(project, name));
      out(this, body, () => `lease role ${project}/${name} deleted`);
    });

  const lease = program.command('lease').description('leased database logins (operators: list, revoke)');

  lease.command('list').description('leases, newest first (never values)')
    .option('--project <project>').option('--role <role>').option('--machine <machine>')
    .option('--state <state>', LEASE_STATES.join(' | ')).option('--json')
    .action(async function (this: Command, o: { project?: string; role?: string; machine?: string; state?: string }) {
      const qs = new URLSearchParams(Object.entries(o).filter(([k, v]) => typeof v === 'string' && ['project', 'role', 'machine', 'state'].includes(k)) as Array<[string, string]>).toString();
      const { body } = await clientFor(this).request<{ leases: LeaseSummary[] }>('GET', `/v1/leases${qs ? `?${qs}` : ''}`);
      out(this, body, () => table(['ID', 'PROJECT', 'ROLE', 'MACHINE', 'USERNAME', 'STATE', 'EXPIRES'], body.leases.map((l) => [
        l.leaseId, l.project, l.role, l.machine, l.username, l.state, iso(l.expiresAt),
      ])));
    });

  lease.command('revoke <id>').description('revoke a lease now: the agent drops the login and ends its sessions').option('--json')
    .action(async function (this: Command, id: string) {
      const { body } = await clientFor(this).request<Lease>('POST', `/v1/leases/${enc(id)}/revoke`, {});
      out(this, body, () => `lease ${id} ${body.state}${body.state === 'revoking' ? ' (the agent drops the login)' : ''}`);
    });
}

import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { collect } from '../../protocol/cli.js';
import { table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

interface TrashItem { kind: string; project: string; name: string | null; isCanary: boolean; deletedAt: number; deletedBy: string | null; purgeAt: number; inDeletedProject: boolean }
interface Metadata {
  project: string; name: string; kind: string; isCanary: boolean; version: number | null; description: string | null; tags: Record<string, string>;
  createdAt: number; versions: number; rotation: { provider: string; strategy: string; enabled: boolean; pausedReason: string | null } | null;
}

const iso = (t: number): string => new Date(t).toISOString();
const sub = (program: Command, name: string): Command => {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`the ${name} command group is registered first`);
  return found;
};

function describeText(m: Metadata): string {
  return [
    `${m.project}/${m.name}  ${m.kind}${m.isCanary ? ' (canary)' : ''}`,
    `version      ${m.version ?? '-'} (${m.versions} in all)`,
    `description  ${m.description ?? '-'}`,
    `tags         ${Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`,
    `rotation     ${m.rotation ? `${m.rotation.provider} ${m.rotation.strategy}, ${m.rotation.enabled ? 'enabled' : `paused${m.rotation.pausedReason ? ` (${m.rotation.pausedReason})` : ''}`}` : '-'}`,
    `created      ${iso(m.createdAt)}`,
  ].join('\n');
}

/**
 * Deleting things (README "Deleting things"): `secret delete|restore|rename|describe`,
 * `project delete|restore|rename`, `canary delete`, `trash list|purge`.
 *
 * @example
 *   sikkerkey secret delete shop db
 *   sikkerkey trash list
 *   sikkerkey secret restore shop db
 */
export function trashCommands(program: Command): void {
  const secret = sub(program, 'secret');
  secret.command('delete <project> <name>')
    .description('move a secret (every version) to the trash: reads answer 404 at once, its rotation policy pauses; `secret restore` undoes it')
    .option('--force', 'even while a rotation of it is unfinished (it still completes), or it is another policy\'s admin secret (that policy pauses) or a lease role\'s (its leases are revoked)')
    .option('--json')
    .action(async function (this: Command, project: string, name: string, o: { force?: boolean }) {
      const { body } = await clientFor(this).request<{ pausedPolicies: number; deletedAt: number; revokedLeases?: number }>('DELETE', `/v1/projects/${enc(project)}/secrets/${enc(name)}${o.force ? '?force=true' : ''}`);
      out(this, body, () => `${project}/${name} moved to the trash${body.pausedPolicies ? `; ${body.pausedPolicies} rotation ${body.pausedPolicies === 1 ? 'policy' : 'policies'} paused` : ''}${revokedText(body.revokedLeases)}`);
    });
  secret.command('restore <project> <name>').description('bring a secret back from the trash (policies its deletion paused resume)').option('--json')
    .action(async function (this: Command, project: string, name: string) {
      const { body } = await clientFor(this).request<{ resumedPolicies: number }>('POST', `/v1/projects/${enc(project)}/secrets/${enc(name)}/restore`);
      out(this, body, () => `${project}/${name} restored${body.resumedPolicies ? `; ${body.resumedPolicies} rotation ${body.resumedPolicies === 1 ? 'policy' : 'policies'} resumed` : ''}`);
    });
  secret.command('rename <project> <name> <newName>').description('rename a secret (machines read by name: update their configuration)').option('--json')
    .action(async function (this: Command, project: string, name: string, newName: string) {
      const { body } = await clientFor(this).request<{ secret: Metadata }>('POST', `/v1/projects/${enc(project)}/secrets/${enc(name)}/rename`, { name: newName });
      out(this, body.secret, () => `${project}/${name} is now ${project}/${body.secret.name}`);
    });
  secret.command('describe <project> <name>')
    .description('a secret\'s metadata (never its value); with --description/--tag/--untag it sets them')
    .option('--description <text>', 'set the description')
    .option('--clear-description', 'remove the description')
    .option('--tag <key=value>', 'set a tag (repeatable)', collect)
    .option('--untag <key>', 'remove a tag (repeatable)', collect)
    .option('--json')
    .action(async function (this: Command, project: string, name: string, o: { description?: string; clearDescription?: boolean; tag?: string[]; untag?: string[] }) {
      if (o.description !== undefined && o.clearDescription) throw new SikkerKeyError('SK_ERR_USAGE', 'give --description or --clear-description, not both');
      const tags: Record<string, string> = {};
      for (const t of o.tag ?? []) {
        const eq = t.indexOf('=');
        if (eq < 1) throw new SikkerKeyError('SK_ERR_USAGE', `--tag ${JSON.stringify(t)}: use key=value`);
        tags[t.slice(0, eq)] = t.slice(eq + 1);
      }
      const change = {
        ...(o.description !== undefined ? { description: o.description } : {}), ...(o.clearDescription ? { description: null } : {}),
        ...(o.tag ? { tags } : {}), ...(o.untag ? { removeTags: o.untag } : {}),
      };
      const path = `/v1/projects/${enc(project)}/secrets/${enc(name)}/metadata`;
      const client = clientFor(this);
      const { body } = Object.keys(change).length > 0 ? await client.request<{ secret: Metadata }>('POST', path, change) : await client.request<{ secret: Metadata }>('GET', path);
      out(this, body.secret, () => describeText(body.secret));
    });

  const project = sub(program, 'project');
  project.command('delete <name>')
    .description('move a project and everything in it to the trash (its live leases are revoked); refused while it has rotation policies or an unfinished rotation')
    .option('--force', 'pause its rotation policies (and let an unfinished rotation complete) and delete it anyway')
    .option('--json')
    .action(async function (this: Command, name: string, o: { force?: boolean }) {
      const { body } = await clientFor(this).request<{ pausedPolicies: number; revokedLeases?: number }>('DELETE', `/v1/projects/${enc(name)}${o.force ? '?force=true' : ''}`);
      out(this, body, () => `project ${name} moved to the trash${body.pausedPolicies ? `; ${body.pausedPolicies} rotation ${body.pausedPolicies === 1 ? 'policy' : 'policies'} paused` : ''}${revokedText(body.revokedLeases)}`);
    });
  project.command('restore <name>').description('bring a project back from the trash with what was in it').option('--json')
    .action(async function (this: Command, name: string) {
      const { body } = await clientFor(this).request<{ resumedPolicies: number }>('POST', `/v1/projects/${enc(name)}/restore`);
      out(this, body, () => `project ${name} restored`);
    });
  project.command('rename <name> <newName>').description('rename a project (machines read by name: update their configuration)').option('--json')
    .action(async function (this: Command, name: string, newName: string) {
      const { body } = await clientFor(this).request<{ project: { name: string } }>('POST', `/v1/projects/${enc(name)}/rename`, { name: newName });
      out(this, body.project, () => `project ${name} is now ${body.project.name}`);
    });

  sub(program, 'canary').command('delete <project> <name>')
    .description('move a canary to the trash (owners only): it can no longer be tripped; `secret restore` (owner) brings it back').option('--json')
    .action(async function (this: Command, projectName: string, name: string) {
      const { body } = await clientFor(this).request<{ deletedAt: number }>('DELETE', `/v1/projects/${enc(projectName)}/canaries/${enc(name)}`);
      out(this, body, () => `canary ${projectName}/${name} moved to the trash`);
    });

  const trash = program.command('trash').description('deleted projects and secrets, until purged (serve --trash-days, default 30)');
  trash.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ trashDays: number; items: TrashItem[] }>('GET', '/v1/trash');
    out(this, body, () => table(['KIND', 'PROJECT', 'NAME', 'DELETED', 'BY', 'PURGED AFTER'], body.items.map((i) => [
      i.isCanary ? 'canary' : i.kind, i.project, i.name ?? '-', iso(i.deletedAt), i.deletedBy ?? '-', i.inDeletedProject ? '(with its project)' : iso(i.purgeAt),
    ])));
  });
  trash.command('purge [project] [name]')
    .description('delete for good (owners only): one secret, one project, or everything in the trash. Backups taken before still hold the wrapped keys')
    .option('--json')
    .action(async function (this: Command, projectName: string | undefined, name: string | undefined) {
      const { body } = await clientFor(this).request<{ projects: string[]; secrets: string[]; versions: number }>('POST', '/v1/trash/purge', {
        ...(projectName ? { project: projectName } : {}), ...(name ? { name } : {}),
      });
      out(this, body, () => `purged ${body.projects.length} project(s), ${body.secrets.length} secret(s), ${body.versions} version(s)`);
    });
}

/** `; N leases revoked …` when a delete revoked leases, else nothing. */
function revokedText(n: number | undefined): string {
  return n ? `; ${n} ${n === 1 ? 'lease' : 'leases'} revoked (the agent drops the logins)` : '';
}

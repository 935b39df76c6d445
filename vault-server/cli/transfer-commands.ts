import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { readStdin, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';
import { parseDotenv, parseImportJson } from './dotenv-parser.js';

const ON_CONFLICT = ['fail', 'skip', 'new-version'] as const;

interface ImportAnswer { project: string; created: string[]; skipped: string[]; newVersions: string[] }

interface ExportAnswer {
  project: string;
  grants: Array<{ machine: string; fields: string[] | null }>;
  secrets: Array<{
    name: string; kind: string; version: number | null; isCanary: boolean; description: string | null;
    grants: Array<{ machine: string; fields: string[] | null }>;
    rotation: { provider: string; strategy: string; schedule: string | null; enabled: boolean } | null;
  }>;
}

/** A file's text, or standard input for `-`; an error names the file and the errno, nothing of its content. */
async function readSource(file: string, flag: string): Promise<string> {
  if (file === '-') return readStdin();
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_USAGE', `cannot read ${flag} ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * `sikkerkey import` and `sikkerkey export` (issue 21). Values come from a file or standard
 * input, never from the command line; an export writes metadata only.
 *
 * @example
 *   sikkerkey import --project shop --from-env .env --on-conflict skip --json
 *   cat secrets.json | sikkerkey import --project shop --from-json - --json
 *   sikkerkey export --project shop --metadata-only --json
 */
export function transferCommands(program: Command): void {
  program.command('import')
    .description('write many secrets into a project in one transaction: all of them or none')
    .requiredOption('--project <project>', 'the project to import into')
    .option('--from-env <file>', 'a dotenv file (- for standard input): every KEY=value becomes a plain secret')
    .option('--from-json <file>', 'a JSON object (- for standard input): {"NAME": "value"} plain, {"NAME": {"field": "value"}} structured')
    .option('--on-conflict <mode>', 'when a name exists: fail (refuse the whole import), skip (leave it), new-version (write a new version)', 'fail')
    .option('--json')
    .action(async function (this: Command, o: { project: string; fromEnv?: string; fromJson?: string; onConflict: string }) {
      if ((o.fromEnv === undefined) === (o.fromJson === undefined)) throw new SikkerKeyError('SK_ERR_USAGE', 'give exactly one of --from-env FILE and --from-json FILE (- for standard input)');
      if (!(ON_CONFLICT as readonly string[]).includes(o.onConflict)) throw new SikkerKeyError('SK_ERR_USAGE', `--on-conflict takes ${ON_CONFLICT.join(', ')}`);
      const secrets = o.fromEnv !== undefined
        ? parseDotenv(await readSource(o.fromEnv, '--from-env'), o.fromEnv === '-' ? 'standard input' : o.fromEnv)
        : parseImportJson(await readSource(o.fromJson as string, '--from-json'), o.fromJson === '-' ? 'standard input' : o.fromJson);
      if (secrets.length === 0) throw new SikkerKeyError('SK_ERR_USAGE', 'the file holds no secrets');
      const { body } = await clientFor(this).request<ImportAnswer>('POST', `/v1/projects/${enc(o.project)}/import`, { onConflict: o.onConflict, secrets });
      out(this, body, () => [
        `${body.project}: ${body.created.length} created, ${body.newVersions.length} new versions, ${body.skipped.length} skipped`,
        ...(body.created.length ? [`created:      ${body.created.join(' ')}`] : []),
        ...(body.newVersions.length ? [`new versions: ${body.newVersions.join(' ')}`] : []),
        ...(body.skipped.length ? [`skipped:      ${body.skipped.join(' ')}`] : []),
      ].join('\n'));
    });

  program.command('export')
    .description('a project\'s metadata: names, kinds, versions, descriptions, tags, grants, rotation policies (never values)')
    .requiredOption('--project <project>', 'the project to export')
    .option('--metadata-only', 'required: an export never holds values')
    .option('--json')
    .action(async function (this: Command, o: { project: string; metadataOnly?: boolean }) {
      if (!o.metadataOnly) throw new SikkerKeyError('SK_ERR_USAGE', 'export only writes metadata; values are read only by machines (add --metadata-only)');
      const { body } = await clientFor(this).request<ExportAnswer>('GET', `/v1/projects/${enc(o.project)}/export`);
      const grants = (gs: ExportAnswer['grants']): string => gs.map((g) => g.machine + (g.fields ? `(${g.fields.join(',')})` : '')).join(' ');
      out(this, body, () => [
        `project ${body.project}${body.grants.length ? `; project-wide grants: ${grants(body.grants)}` : ''}`,
        table(['NAME', 'KIND', 'VERSION', 'CANARY', 'GRANTS', 'ROTATION', 'DESCRIPTION'], body.secrets.map((s) => [
          s.name, s.kind, String(s.version ?? '-'), s.isCanary ? 'yes' : '', grants(s.grants),
          s.rotation ? `${s.rotation.provider}/${s.rotation.strategy}${s.rotation.schedule ? ' ' + s.rotation.schedule : ''}${s.rotation.enabled ? '' : ' (paused)'}` : '',
          s.description ?? '',
        ])),
      ].join('\n'));
    });
}

import { SikkerKeyError } from '../../protocol/errors.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { readStdin, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';
/**
 * `sikkerkey canary …` (DESIGN §11): decoy secrets whose first read by a machine locks the project.
 *
 * @example
 *   sikkerkey canary create shop db-backup-admin --value-stdin --lock-machine-projects
 *   sikkerkey canary list shop
 */
export function canaryCommands(program) {
    const canary = program.command('canary').description('canary secrets: decoys whose first read locks the project');
    canary.command('create <project> <name>')
        .description('create a canary; to machines it is indistinguishable from a real secret')
        .option('--value <value>', 'the decoy value (visible in your shell history: prefer --value-stdin)')
        .option('--value-stdin', 'read the decoy value from standard input')
        .option('--fields-json <json>', 'a structured decoy: a JSON object of string fields')
        .option('--lock-machine-projects', 'a trip also locks every project the reading machine can read')
        .option('--json')
        .action(async function (project, name, o) {
        const given = [o.value !== undefined, Boolean(o.valueStdin), o.fieldsJson !== undefined].filter(Boolean).length;
        if (given !== 1)
            throw new SikkerKeyError('SK_ERR_USAGE', 'give exactly one of --value, --value-stdin, --fields-json');
        let decoy;
        if (o.fieldsJson !== undefined) {
            let fields;
            try {
                fields = JSON.parse(o.fieldsJson);
            }
            catch {
                throw new SikkerKeyError('SK_ERR_USAGE', '--fields-json is not valid JSON');
            }
            if (!fields || typeof fields !== 'object' || Array.isArray(fields) || Object.values(fields).some((v) => typeof v !== 'string')) {
                throw new SikkerKeyError('SK_ERR_USAGE', '--fields-json must be an object whose values are all strings');
            }
            decoy = { fields: fields };
        }
        else {
            decoy = { value: o.value ?? (await readStdin()).replace(/\r?\n$/, '') };
        }
        const { body } = await clientFor(this).request('POST', `/v1/projects/${enc(project)}/canaries`, {
            name, ...decoy, lockMachineProjects: Boolean(o.lockMachineProjects),
        });
        out(this, body.canary, () => `canary ${project}/${name} created (version ${body.canary.version ?? '-'}${body.canary.lockMachineProjects ? ', locks every project of the reading machine' : ''})`);
    });
    canary.command('list <project>').option('--json').action(async function (project) {
        const { body } = await clientFor(this).request('GET', `/v1/projects/${enc(project)}/canaries`);
        out(this, body, () => table(['NAME', 'KIND', 'VERSION', 'LOCKS MACHINE PROJECTS'], body.canaries.map((c) => [c.name, c.kind, String(c.version ?? '-'), c.lockMachineProjects ? 'yes' : 'no'])));
    });
}
//# sourceMappingURL=canary-commands.js.map
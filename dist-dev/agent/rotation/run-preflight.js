import { refusal } from '../../protocol/engines.js';
import { asSkError } from './run-job.js';
/**
 * A preflight job: checks, without changing anything, that the admin credential can alter every
 * user the policy will rotate, and that the server the admin reached runs the policy's strategy
 * (the engine table, for the flavour and version it turned out to be). Reports the problems in
 * words an operator can act on, and the flavour, which the vault keeps to refuse what it cannot run.
 */
export async function runPreflightJob(job, provider, vault, log) {
    let result;
    try {
        const init = await provider.initialize({ admin: job.admin, target: job.target });
        const checked = await provider.preflight({ usernames: job.usernames, strategy: job.strategy });
        const refused = refusal({ engine: job.engine, flavour: init.flavour, version: init.serverVersion }, job.strategy);
        const problems = refused === undefined ? checked.problems : [`${init.serverVersion}: ${refused}`, ...checked.problems];
        result = { ok: problems.length === 0, problems, flavour: init.flavour, serverVersion: init.serverVersion };
    }
    catch (err) {
        const e = asSkError(err);
        result = { ok: false, problems: [`${e.code}: ${e.message}`] };
    }
    const res = await vault.preflight(job.id, { fence: job.fence, ...result });
    log.info({ rotationId: job.id, secret: `${job.project}/${job.secret}`, ok: result.ok, flavour: result.flavour, problems: result.problems }, 'preflight finished');
    return res.state === 'preflight_passed' ? 'preflight_passed' : 'failed';
}
//# sourceMappingURL=run-preflight.js.map
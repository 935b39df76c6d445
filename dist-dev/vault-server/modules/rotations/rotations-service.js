import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { SikkerKeyError, isSikkerKeyError } from '../../../protocol/errors.js';
import { ENGINES, STRATEGIES, SUCCEEDED_STATE } from '../../../protocol/api-types.js';
import { isEngine } from '../../../protocol/engines.js';
import { parseDuration } from '../../../protocol/duration.js';
import { writeTx } from '../../context.js';
import { requireProject } from '../projects/projects-service.js';
import { requireMachine } from '../machines/machines-service.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { adminGrantOf, createRotation, missingConnectionFields, noFieldGrantMessage, resolveRotation, secretFields } from './rotations-engine.js';
import { parsePasswordPolicy } from './password-generator.js';
import { assertDatabaseFields, assertStrategySupported } from './rotation-rules.js';
async function secretInProject(trx, projectId, name) {
    const s = await trx.selectFrom('secrets').select(['id', 'name', 'kind']).where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
    if (!s)
        throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(name)} in that project`);
    return s;
}
/** The next instant a cron schedule fires after `after`, in its IANA time zone (croner handles DST). */
export function nextRun(schedule, timezone, after) {
    if (!schedule)
        return null;
    try {
        const next = new Cron(schedule, { timezone: timezone ?? 'UTC', paused: true }).nextRun(new Date(after));
        return next ? next.getTime() : null;
    }
    catch (err) {
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--schedule ${JSON.stringify(schedule)} / --timezone ${JSON.stringify(timezone ?? 'UTC')}: ${err instanceof Error ? err.message : String(err)}`);
    }
}
/**
 * `rotation set`: creates or replaces a secret's policy, and a preflight job to check it. The
 * strategy is checked against protocol/engines.ts twice: first for the engine (a strategy no
 * flavour of it runs), then, in the transaction, for the flavour and version the policy's last
 * preflight reported (MariaDB refuses `dual` at once). A new `--provider` forgets them.
 */
export async function setPolicy(ctx, caller, projectName, secretName, input) {
    if (!isEngine(input.provider)) {
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--provider must be one of ${ENGINES.join(', ')}`);
    }
    const engine = input.provider;
    const strategy = (input.strategy ?? 'single');
    if (!STRATEGIES.includes(strategy))
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--strategy must be one of ${STRATEGIES.join(', ')}`);
    assertStrategySupported({ engine }, strategy);
    if (Boolean(input.agent) === Boolean(input.agentLabel)) {
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', 'name the agent: exactly one of --agent MACHINE or --agent-label L');
    }
    if (strategy === 'alternating' && !input.alternateUsername) {
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', '--strategy alternating needs --alternate-username (the second user)');
    }
    const passwordPolicy = parsePasswordPolicy({ length: input.passwordLength });
    const graceMs = input.grace ? parseDuration(input.grace, '--grace', 'SK_ERR_VALIDATION') : 0;
    const now = ctx.now();
    const nextRunAt = nextRun(input.schedule ?? null, input.timezone ?? null, now);
    return writeTx(ctx, async (trx, audit) => {
        const project = await requireProject(trx, projectName);
        const secret = await secretInProject(trx, project.id, secretName);
        const existing = await trx.selectFrom('rotation_policies').select(['id', 'provider', 'flavour', 'server_version', 'failing']).where('secret_id', '=', secret.id).executeTakeFirst();
        // What a preflight found about this engine's server stays known; another engine starts over.
        const known = existing && existing.provider === engine ? { flavour: existing.flavour, version: existing.server_version } : { flavour: null, version: null };
        assertStrategySupported({ engine, ...known }, strategy);
        const adminSecret = await secretInProject(trx, project.id, input.adminSecret);
        if (adminSecret.id === secret.id)
            throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', 'the admin secret must be another secret than the one rotated');
        const ref = { id: secret.id, name: secret.name, kind: secret.kind, project };
        const liveFields = (await secretFields(ctx, trx, ref)).fields;
        assertDatabaseFields(liveFields, `secret ${secretName}`);
        if (strategy === 'alternating' && input.alternateUsername === liveFields.username) {
            throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', '--alternate-username must name a second user, not the secret\'s own username');
        }
        const adminRef = { ...ref, id: adminSecret.id, name: adminSecret.name, kind: adminSecret.kind };
        const adminFields = (await secretFields(ctx, trx, adminRef)).fields;
        assertDatabaseFields(adminFields, `admin secret ${input.adminSecret}`);
        const agentId = input.agent ? (await requireMachine(trx, input.agent)).id : null;
        // An agent whose grant on the admin secret is limited to fields must get every connection
        // field the secret holds (the claim refuses it the same way). An agent with no grant yet is
        // let through: the claim answers SK_ERR_NO_GRANT until it is granted.
        const agents = agentId !== null
            ? [{ id: agentId, name: input.agent ?? '' }]
            : (await trx.selectFrom('machines').select(['id', 'name', 'labels']).execute()).filter((m) => JSON.parse(m.labels).includes(input.agentLabel ?? ''));
        for (const agent of agents) {
            const access = await adminGrantOf(trx, agent.id, adminRef);
            const missing = access === 'none' ? [] : missingConnectionFields(engine, adminFields, access);
            if (missing.length > 0)
                throw new SikkerKeyError('SK_ERR_NO_GRANT', noFieldGrantMessage(agent.name, adminRef, missing));
        }
        const values = {
            provider: engine, strategy, schedule: input.schedule ?? null, timezone: input.timezone ?? null,
            agent_machine_id: agentId, agent_label: input.agentLabel ?? null, admin_secret_id: adminSecret.id,
            password_policy: JSON.stringify(passwordPolicy), grace_ms: graceMs, enabled: input.paused ? 0 : 1,
            next_run_at: nextRunAt, alternate_username: input.alternateUsername ?? null, updated_at: now,
            primary_username: strategy === 'alternating' ? (liveFields.username ?? null) : null,
            flavour: known.flavour, server_version: known.version,
        };
        if (existing) {
            await trx.updateTable('rotation_policies').set(values).where('id', '=', existing.id).execute();
        }
        else {
            await trx.insertInto('rotation_policies').values({ id: randomUUID(), secret_id: secret.id, created_at: now, failing: 0, ...values }).execute();
        }
        await trx.updateTable('secrets').set({ kind: 'database' }).where('id', '=', secret.id).execute();
        // A preflight job checks, without changing anything, that the admin can do what the policy
        // needs; `rotation set --wait` reports it. Skipped while another job of this secret runs.
        const saved = await trx.selectFrom('rotation_policies').selectAll().where('secret_id', '=', secret.id).executeTakeFirstOrThrow();
        const busy = await trx.selectFrom('rotations').select('id').where('secret_id', '=', secret.id).where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
        const preflightId = busy ? null : (await createRotation(ctx, trx, { policy: saved, trigger: 'manual', kind: 'preflight', actor: caller }, audit)).id;
        await audit({
            action: existing ? 'rotation.policy_updated' : 'rotation.policy_created', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success',
            details: { provider: engine, strategy, agent: input.agent ?? null, agentLabel: input.agentLabel ?? null, adminSecret: input.adminSecret, schedule: input.schedule ?? null, enabled: !input.paused },
        }, caller);
        return {
            project: projectName, secret: secretName, provider: engine, strategy, agent: input.agent ?? null, agentLabel: input.agentLabel ?? null,
            adminSecret: input.adminSecret, schedule: values.schedule, timezone: values.timezone, graceMs, enabled: !input.paused, failing: existing?.failing === 1, nextRunAt,
            flavour: known.flavour, serverVersion: known.version, preflightId,
        };
    });
}
async function policyFor(trx, projectName, secretName) {
    const project = await requireProject(trx, projectName);
    const secret = await secretInProject(trx, project.id, secretName);
    const policy = await trx.selectFrom('rotation_policies').selectAll().where('secret_id', '=', secret.id).executeTakeFirst();
    if (!policy)
        throw new SikkerKeyError('SK_ERR_NOT_FOUND', `secret ${projectName}/${secretName} has no rotation policy: sikkerkey rotation set …`);
    return { project, secret, policy };
}
/** How long `rotation run` waits for a preflight that an agent is running (they take a second). */
const PREFLIGHT_WAIT_MS = 15_000;
/**
 * `rotation run`: a manual rotation now (also when the policy is paused: an operator asked).
 * A preflight an agent is busy with is waited for, briefly; any other unfinished job is a 409.
 */
export async function runRotation(ctx, caller, projectName, secretName) {
    const deadline = Date.now() + PREFLIGHT_WAIT_MS;
    for (;;) {
        try {
            return await writeTx(ctx, async (trx, audit) => {
                const { policy } = await policyFor(trx, projectName, secretName);
                return createRotation(ctx, trx, { policy, trigger: 'manual', actor: caller }, audit);
            });
        }
        catch (err) {
            const runningId = isSikkerKeyError(err, 'SK_ERR_ROTATION_IN_PROGRESS') ? err.details?.['rotationId'] : undefined;
            if (typeof runningId !== 'string' || Date.now() > deadline)
                throw err;
            const running = await ctx.store.db.selectFrom('rotations').select('kind').where('id', '=', runningId).executeTakeFirst();
            if (running?.kind !== 'preflight')
                throw err;
            await new Promise((r) => setTimeout(r, 200));
        }
    }
}
export async function resolveStuck(ctx, caller, projectName, secretName, use) {
    const project = await requireProject(ctx.store.db, projectName);
    const secret = await secretInProject(ctx.store.db, project.id, secretName);
    return resolveRotation(ctx, caller, secret.id, use);
}
export async function rotationStatus(ctx, projectName, secretName, rotationId) {
    const db = ctx.store.db;
    const { secret, policy } = await policyFor(db, projectName, secretName);
    let latestQ = db.selectFrom('rotations').selectAll().where('secret_id', '=', secret.id).where('kind', '=', 'rotate');
    latestQ = rotationId ? latestQ.where('id', '=', rotationId) : latestQ.orderBy('created_at', 'desc');
    const latest = await latestQ.limit(1).executeTakeFirst();
    const lastSuccess = await db.selectFrom('rotations').select(['created_at', 'finished_at']).where('secret_id', '=', secret.id)
        .where('kind', '=', 'rotate').where('state', '=', SUCCEEDED_STATE.rotate).orderBy('finished_at', 'desc').limit(1).executeTakeFirst();
    const agentId = latest?.claimed_by ?? policy.agent_machine_id;
    const agent = agentId ? await db.selectFrom('machines').select(['name', 'last_seen_at']).where('id', '=', agentId).executeTakeFirst() : undefined;
    let version = null;
    if (latest?.pending_version_id) {
        version = (await db.selectFrom('secret_versions').select('version').where('id', '=', latest.pending_version_id).executeTakeFirst())?.version ?? null;
    }
    return {
        state: (latest?.state ?? 'none'),
        rotationId: latest?.id ?? null,
        version,
        lastSuccessAt: lastSuccess?.finished_at ?? null,
        lastError: latest?.error ? `${latest.error_code ?? ''}: ${latest.error}` : null,
        nextRunAt: policy.enabled ? policy.next_run_at : null,
        latencyMs: latest?.state === SUCCEEDED_STATE.rotate && latest.finished_at ? latest.finished_at - latest.created_at : null,
        agent: { name: agent?.name ?? null, lastSeenAt: agent?.last_seen_at ?? null },
    };
}
export async function listPolicies(ctx) {
    const db = ctx.store.db;
    const rows = await db.selectFrom('rotation_policies')
        .innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
        .innerJoin('projects', 'projects.id', 'secrets.project_id')
        .leftJoin('machines', 'machines.id', 'rotation_policies.agent_machine_id')
        .innerJoin('secrets as admin', 'admin.id', 'rotation_policies.admin_secret_id')
        .select(['projects.name as project', 'secrets.name as secret', 'secrets.id as secretId', 'rotation_policies.provider as provider', 'rotation_policies.strategy as strategy',
        'machines.name as agent', 'rotation_policies.agent_label as agentLabel', 'admin.name as adminSecret', 'rotation_policies.schedule as schedule',
        'rotation_policies.timezone as timezone', 'rotation_policies.grace_ms as graceMs', 'rotation_policies.enabled as enabled',
        'rotation_policies.failing as failing', 'rotation_policies.next_run_at as nextRunAt', 'rotation_policies.flavour as flavour',
        'rotation_policies.server_version as serverVersion'])
        .orderBy('projects.name').orderBy('secrets.name').execute();
    const out = [];
    for (const r of rows) {
        const latest = await db.selectFrom('rotations').select('state').where('secret_id', '=', r.secretId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
        out.push({
            project: r.project, secret: r.secret, provider: r.provider, strategy: r.strategy, agent: r.agent ?? null, agentLabel: r.agentLabel,
            adminSecret: r.adminSecret, schedule: r.schedule, timezone: r.timezone, graceMs: r.graceMs, enabled: r.enabled === 1, failing: r.failing === 1,
            nextRunAt: r.nextRunAt, flavour: r.flavour, serverVersion: r.serverVersion, state: latest?.state ?? 'none',
        });
    }
    return out;
}
//# sourceMappingURL=rotations-service.js.map
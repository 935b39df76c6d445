import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { SUCCEEDED_STATE } from '../../protocol/api-types.js';
import type { DriftStatus, RotationFailure, RotationState, RotationStatus, TimelineEntry } from '../../protocol/api-types.js';
import { ENGINES, STRATEGIES, describeEngines } from '../../protocol/engines.js';
import { parseDuration } from '../../protocol/duration.js';
import { durationArg, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

/** The states `--wait` stops at (docs/rotation-states.md): every finished one, and `stuck`. */
const FINISHED: ReadonlySet<string> = new Set<RotationState>(['promoted', 'retired', 'preflight_passed', 'failed', 'stuck', 'cancelled']);

function secretPath(project: string, secret: string): string {
  return `/v1/projects/${enc(project)}/secrets/${enc(secret)}/rotation`;
}

interface SetOpts {
  provider: string; agent?: string; agentLabel?: string; adminSecret: string; strategy?: string; schedule?: string;
  timezone?: string; grace?: string; passwordLength?: string; alternateUsername?: string; paused?: boolean;
  driftInterval?: string; wait?: boolean; timeout: string;
}

interface JobView {
  id: string; kind: string; state: string; project: string; secret: string; attempt: number; error: string | null; errorCode: string | null;
  createdAt: number; finishedAt: number | null; latencyMs: number | null; timeline?: TimelineEntry[];
}

async function waitForJob(client: ReturnType<typeof clientFor>, id: string, timeoutMs: number): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await client.request<JobView>('GET', `/v1/rotations/${enc(id)}`);
    if (FINISHED.has(body.state) || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const iso = (ms: number | null): string => (ms !== null ? new Date(ms).toISOString() : '-');

/** `SK_ERR_…: message (attempt 1 of 3, 2026-…Z)`: a failure as `rotation status` and `run --wait` print it. */
function describeFailure(f: RotationFailure): string {
  return `${f.code}: ${f.message} (attempt ${f.attempt} of ${f.maxAttempts}, ${iso(f.at)})`;
}

/** When the next attempt is due, in words: a past time means due now (waiting for an agent). */
function describeNextAttempt(at: number | null, now = Date.now()): string {
  if (at === null) return 'none scheduled';
  return at <= now ? `due now (since ${iso(at)}), waiting for an agent` : iso(at);
}

/** The drift probes in one line: off, not probed yet, the live credential logs in, or DRIFT since when. */
function describeDrift(d: DriftStatus): string {
  if (d.intervalSeconds === 0) return 'not probed (--drift-interval off)';
  const next = `every ${d.intervalSeconds}s, next ${iso(d.nextProbeAt)}`;
  if (d.failingSince !== null) return `DRIFT since ${iso(d.failingSince)}: the database refuses the live credential (${d.lastProbe?.code ?? '?'}); ${next}`;
  if (d.lastProbe === null) return `not probed yet; ${next}`;
  return `${d.lastProbe.ok ? 'live credential logs in' : `probe failed (${d.lastProbe.code ?? '?'}: ${d.lastProbe.message ?? ''})`} at ${iso(d.lastProbe.at)}; ${next}`;
}

/**
 * A job's timeline, one line per entry: the time, who recorded it (`vault`, or `agent` with the
 * step's duration), the step and the attempt. Agent times are the agent's clock.
 */
export function describeTimeline(timeline: readonly TimelineEntry[]): string[] {
  if (timeline.length === 0) return ['  -'];
  return timeline.map((e) => {
    const who = e.source === 'agent' ? `agent  ${`${e.ms} ms`.padStart(9)}` : `vault  ${''.padStart(9)}`;
    return `  ${iso(e.at)}  ${who}  ${e.step.padEnd(16)}${e.attempt !== undefined ? ` attempt ${e.attempt}` : ''}`.trimEnd();
  });
}

/** `sikkerkey rotation …` (DESIGN §11). */
export function rotationCommands(program: Command): void {
  const rotation = program.command('rotation').description('credential rotation policies and runs');

  rotation.command('set <project> <secret>')
    .requiredOption('--provider <engine>', `${ENGINES.join(' | ')}; the strategies each runs: ${describeEngines()}`)
    .option('--agent <machine>', 'the agent machine that rotates it')
    .option('--agent-label <label>', 'or: any active machine with this label')
    .requiredOption('--admin-secret <name>', 'a structured secret in the same project holding the admin credential')
    .option('--strategy <strategy>', `${STRATEGIES.join(' | ')} (which engine runs which: see --provider; once a preflight found the server, its flavour decides)`, 'single')
    .option('--schedule <cron>', 'rotate on this cron schedule')
    .option('--timezone <tz>', 'IANA time zone of the schedule', 'UTC')
    .option('--grace <duration>', 'overlap before the old credential is retired (dual, alternating), e.g. 10m', durationArg('--grace'))
    .option('--password-length <n>', 'generated password length (16–128)', '32')
    .option('--alternate-username <name>', 'the second user (alternating)')
    .option('--paused', 'store the policy but do not schedule it')
    .option('--drift-interval <duration>', 'how often the agent logs in with the live credential to catch a password changed behind the vault (rotation.drift): at least 5s, or off', (v: string) => (v === 'off' ? v : durationArg('--drift-interval')(v)), '15m')
    .option('--wait', 'wait for the preflight check and report it (exit non-zero when it fails)')
    .option('--timeout <duration>', 'give up waiting after this long (90, 90s, 10m…; a bare number is seconds)', '120')
    .option('--json')
    .action(async function (this: Command, project: string, secret: string, o: SetOpts) {
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      const length = Number(o.passwordLength ?? 32);
      if (!Number.isInteger(length)) throw new SikkerKeyError('SK_ERR_USAGE', '--password-length takes a whole number');
      const body = {
        provider: o.provider, strategy: o.strategy ?? 'single', adminSecret: o.adminSecret, passwordLength: length,
        ...(o.agent ? { agent: o.agent } : {}), ...(o.agentLabel ? { agentLabel: o.agentLabel } : {}),
        ...(o.schedule ? { schedule: o.schedule, timezone: o.timezone ?? 'UTC' } : {}), ...(o.grace ? { grace: o.grace } : {}),
        ...(o.alternateUsername ? { alternateUsername: o.alternateUsername } : {}), ...(o.paused ? { paused: true } : {}),
        ...(o.driftInterval ? { driftInterval: o.driftInterval } : {}),
      };
      const client = clientFor(this);
      const { body: res } = await client.request<{ policy: { nextRunAt: number | null; enabled: boolean; preflightId: string | null; pausedReason?: string | null } }>('PUT', secretPath(project, secret), body);
      const saved = `rotation policy for ${project}/${secret} saved (${res.policy.enabled ? 'enabled' : res.policy.pausedReason === 'awaiting_approval' ? 'paused until an operator runs `rotation approve`' : 'paused'}${res.policy.nextRunAt ? `, next run ${new Date(res.policy.nextRunAt).toISOString()}` : ''})`;
      if (!o.wait || !res.policy.preflightId) return out(this, res.policy, () => saved);
      const job = await waitForJob(client, res.policy.preflightId, timeoutMs);
      const passed = job.state === SUCCEEDED_STATE.preflight;
      out(this, { ...res.policy, preflight: job }, () => `${saved}\npreflight: ${passed ? 'passed' : `${job.state}${job.error ? ` — ${job.error}` : ''}`}`);
      if (!passed) process.exitCode = 3;
    });

  rotation.command('run <project> <secret>')
    .option('--wait', 'wait until it is promoted (exit 0) or failed/stuck (non-zero)')
    .option('--timeout <duration>', 'give up waiting after this long (90, 90s, 10m…; a bare number is seconds)', '300')
    .option('--json')
    .action(async function (this: Command, project: string, secret: string, o: { wait?: boolean; timeout: string }) {
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      const client = clientFor(this);
      const { body } = await client.request<{ id: string }>('POST', `${secretPath(project, secret)}/run`);
      if (!o.wait) return out(this, body, () => `rotation ${body.id} created`);
      const deadline = Date.now() + timeoutMs;
      let status: RotationStatus;
      for (;;) {
        status = (await client.request<RotationStatus>('GET', `${secretPath(project, secret)}?rotation=${enc(body.id)}`)).body;
        if (FINISHED.has(status.state) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const promoted = status.state === SUCCEEDED_STATE.rotate;
      out(this, status, () => promoted
        ? `rotation ${body.id}: ${status.state} (version ${status.version}, ${status.latencyMs} ms)`
        : [
          `rotation ${body.id}: ${status.state}${status.lastError ? ` — ${describeFailure(status.lastError)}` : ''}`,
          ...(FINISHED.has(status.state) ? [`next attempt: ${describeNextAttempt(status.nextAttemptAt)}`] : []),
        ].join('\n'));
      if (!promoted) process.exitCode = status.state === 'stuck' ? 4 : 3;
    });

  rotation.command('status <project> <secret>').option('--json').action(async function (this: Command, project: string, secret: string) {
    const { body } = await clientFor(this).request<RotationStatus>('GET', secretPath(project, secret));
    out(this, body, () => [
      `state         ${body.state}${body.rotationId ? ` (${body.rotationId})` : ''}`,
      `version       ${body.version ?? '-'}`,
      `last success  ${body.lastSuccessAt ? new Date(body.lastSuccessAt).toISOString() : 'never'}`,
      `last error    ${body.lastError ? describeFailure(body.lastError) : '-'}`,
      `next attempt  ${describeNextAttempt(body.nextAttemptAt)}`,
      `policy        ${body.enabled ? 'enabled' : `paused (${body.pausedReason ?? 'operator'})`}`,
      `next run      ${body.nextRunAt ? new Date(body.nextRunAt).toISOString() : '-'}`,
      `latency       ${body.latencyMs !== null ? `${body.latencyMs} ms` : '-'}`,
      `agent         ${body.agent.name ?? '-'} (last seen ${body.agent.lastSeenAt ? new Date(body.agent.lastSeenAt).toISOString() : 'never'})`,
      `drift         ${describeDrift(body.drift)}`,
      `timeline${body.rotationId ? ` of ${body.rotationId}` : ''}`,
      ...describeTimeline(body.timeline ?? []),
    ].join('\n'));
  });

  rotation.command('show <id>')
    .description('one rotation job (any kind): state, error and its timeline — the vault\'s events and the agent\'s step timings')
    .option('--json')
    .action(async function (this: Command, id: string) {
      const { body } = await clientFor(this).request<JobView>('GET', `/v1/rotations/${enc(id)}`);
      out(this, body, () => [
        `rotation      ${body.id} (${body.kind}) of ${body.project}/${body.secret}`,
        `state         ${body.state}${body.attempt > 0 ? ` (attempt ${body.attempt})` : ''}`,
        `error         ${body.errorCode ? `${body.errorCode}: ${body.error ?? ''}` : '-'}`,
        `created       ${iso(body.createdAt)}`,
        `finished      ${iso(body.finishedAt)}`,
        `latency       ${body.latencyMs !== null ? `${body.latencyMs} ms` : '-'}`,
        'timeline',
        ...describeTimeline(body.timeline ?? []),
      ].join('\n'));
    });

  rotation.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ policies: Array<{
      project: string; secret: string; provider: string; strategy: string; agent: string | null; agentLabel: string | null; enabled: boolean; pausedReason?: string | null;
      state: string; nextRunAt: number | null; lastAttemptFailed: boolean; lastError: RotationFailure | null; drift: DriftStatus;
    }> }>('GET', '/v1/rotations');
    out(this, body, () => table(['SECRET', 'PROVIDER', 'STRATEGY', 'AGENT', 'ENABLED', 'STATE', 'LAST ATTEMPT', 'DRIFT', 'NEXT RUN'], body.policies.map((p) => [
      `${p.project}/${p.secret}`, p.provider, p.strategy, p.agent ?? (p.agentLabel !== null ? `label:${p.agentLabel}` : '(none)'), p.enabled ? 'yes' : `paused (${p.pausedReason ?? 'operator'})`, p.state,
      p.lastAttemptFailed ? `FAILED (${p.lastError?.code ?? '?'})` : '-',
      p.drift.failingSince !== null ? 'DRIFT' : p.drift.intervalSeconds === 0 ? 'off' : p.drift.lastProbe === null ? '-' : p.drift.lastProbe.ok ? 'ok' : 'unknown',
      p.nextRunAt ? new Date(p.nextRunAt).toISOString() : '-',
    ])));
  });

  interface LifecycleView { project: string; secret: string; enabled: boolean; pausedReason: string | null; nextRunAt: number | null }
  rotation.command('pause <project> <secret>')
    .description('stop scheduling rotations of the secret (a job already created runs to its end; `rotation run` still works)')
    .option('--json')
    .action(async function (this: Command, project: string, secret: string) {
      const { body } = await clientFor(this).request<{ policy: LifecycleView }>('POST', `${secretPath(project, secret)}/pause`);
      out(this, body.policy, () => `rotation policy for ${project}/${secret} paused`);
    });
  rotation.command('resume <project> <secret>')
    .description('schedule it again (whatever paused it); the next run is computed from the schedule, a missed one is not made up')
    .option('--json')
    .action(async function (this: Command, project: string, secret: string) {
      const { body } = await clientFor(this).request<{ policy: LifecycleView }>('POST', `${secretPath(project, secret)}/resume`);
      out(this, body.policy, () => `rotation policy for ${project}/${secret} enabled${body.policy.nextRunAt ? `, next run ${new Date(body.policy.nextRunAt).toISOString()}` : ''}`);
    });
  rotation.command('approve <project> <secret>')
    .description('let a rotation policy an AI agent set or changed run (admin or owner): enabled, with a preflight; the answer says who last wrote the rotated and the admin secret')
    .option('--json')
    .action(async function (this: Command, project: string, secret: string) {
      const { body } = await clientFor(this).request<{ policy: LifecycleView & { approvedChangeBy: string; targetWrittenBy: string | null; adminSecret: string; adminWrittenBy: string | null; preflightId: string | null } }>('POST', `${secretPath(project, secret)}/approve`);
      const p = body.policy;
      out(this, p, () => [
        `rotation policy for ${project}/${secret} approved (the change by AI agent ${p.approvedChangeBy}); enabled${p.nextRunAt ? `, next run ${new Date(p.nextRunAt).toISOString()}` : ''}`,
        `${project}/${secret} last written by ${p.targetWrittenBy ?? '-'}; admin secret ${p.adminSecret} last written by ${p.adminWrittenBy ?? '-'}`,
        ...(p.preflightId ? [`preflight ${p.preflightId} created`] : []),
      ].join('\n'));
    });
  rotation.command('delete <project> <secret>')
    .description('remove the rotation policy (the secret and its versions stay); refused while a rotation of it is unfinished')
    .option('--force', 'cancel an unfinished job no agent has claimed yet (a claimed one is never cancelled: see docs/rotation-states.md)')
    .option('--json')
    .action(async function (this: Command, project: string, secret: string, o: { force?: boolean }) {
      const { body } = await clientFor(this).request<{ deleted: { cancelledRotationId: string | null } }>('DELETE', `${secretPath(project, secret)}${o.force ? '?force=true' : ''}`);
      out(this, body.deleted, () => `rotation policy for ${project}/${secret} deleted${body.deleted.cancelledRotationId ? ` (rotation ${body.deleted.cancelledRotationId} cancelled)` : ''}`);
    });

  rotation.command('resolve <project> <secret>')
    .description('end a stuck (or unfinished) rotation after checking which credential the database holds; see docs/rotation-states.md')
    .requiredOption('--use <which>', 'pending | live: the credential the database holds').option('--json')
    .action(async function (this: Command, project: string, secret: string, o: { use: string }) {
      if (o.use !== 'pending' && o.use !== 'live') throw new SikkerKeyError('SK_ERR_USAGE', '--use takes pending or live');
      const { body } = await clientFor(this).request<{ id: string; state: string }>('POST', `${secretPath(project, secret)}/resolve`, { use: o.use });
      out(this, body, () => `rotation ${body.id}: ${body.state}`);
    });
}

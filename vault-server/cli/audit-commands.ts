/**
 * `sikkerkey audit list|export|verify|head`. Listings page through `GET /v1/audit` (newest first
 * unless --reverse) and never drop events silently: a listing that stops before the last match
 * says so and prints the cursor to continue from. `export` streams every matching event, oldest
 * first, page by page to stdout (constant memory); `verify --file` checks a JSONL export offline.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { SikkerKeyError } from '../../protocol/errors.js';
import { parseDuration } from '../../protocol/duration.js';
import { parseCheckpoint } from '../../protocol/audit-checkpoint.js';
import type { VaultClient } from '../../protocol/client.js';
import { clientFor, out } from './cli-context.js';
import { table } from './cli-format.js';
import { checkCheckpoint } from './audit-checkpoint-check.js';
import type { CheckpointResult } from './audit-checkpoint-check.js';
import { verifyExportFile } from './audit-file-verify.js';

/** An event as `GET /v1/audit` answers it. */
export interface AuditEventJson {
  seq: number; id: string; at: number; severity: string;
  actorKind: string; actorId: string | null; actorName: string | null; actorNameRecorded: boolean;
  action: string; projectId: string | null; target: string; outcome: string; sourceIp: string | null;
  details: Record<string, unknown>; prevHash: string; hash: string; mac: string | null;
}

interface AuditPageJson { events: AuditEventJson[]; order: 'asc' | 'desc'; hasMore: boolean; nextCursor?: string }

interface FilterOpts {
  project?: string; action?: string; actor?: string; outcome?: string; severity?: string; target?: string; ip?: string;
  since?: string; until?: string;
}

/** `--since`/`--until`: an RFC 3339 time, or a duration before now (`1h`, `7d`; a bare number is seconds). */
export function parseTimeArg(text: string, option: string, now = Date.now()): number {
  if (/^\d+[a-z]*$/i.test(text)) return now - parseDuration(text, option);
  // RFC 3339 (a date alone is accepted too, as midnight UTC); nothing Date.parse would guess at.
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/.test(text)) {
    throw new SikkerKeyError('SK_ERR_USAGE', `${option} ${JSON.stringify(text)}: give an RFC 3339 time (2026-05-01T12:00:00Z) or a duration ago (90m, 7d)`);
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new SikkerKeyError('SK_ERR_USAGE', `${option} ${JSON.stringify(text)} is not a valid time`);
  return t;
}

const SEVERITY_VALUES = ['info', 'warning', 'critical'];
const OUTCOME_VALUES = ['success', 'denied', 'failure'];

/** The query string of the filters, checked here so a typo is a usage error before anything is sent. */
function filterParams(o: FilterOpts): URLSearchParams {
  const p = new URLSearchParams();
  if (o.project !== undefined) p.set('project', o.project);
  if (o.action !== undefined) p.set('action', o.action);
  if (o.actor !== undefined) {
    if (!/^(operator|machine|ai_agent|system)(:.+)?$/.test(o.actor)) throw new SikkerKeyError('SK_ERR_USAGE', `--actor ${JSON.stringify(o.actor)}: give KIND or KIND:NAME, KIND one of operator, machine, ai_agent, system`);
    p.set('actor', o.actor);
  }
  if (o.outcome !== undefined) {
    if (!OUTCOME_VALUES.includes(o.outcome)) throw new SikkerKeyError('SK_ERR_USAGE', `--outcome takes ${OUTCOME_VALUES.join('|')}`);
    p.set('outcome', o.outcome);
  }
  if (o.severity !== undefined) {
    if (!SEVERITY_VALUES.includes(o.severity)) throw new SikkerKeyError('SK_ERR_USAGE', `--severity takes ${SEVERITY_VALUES.join('|')} (that level and above)`);
    p.set('severity', o.severity);
  }
  if (o.target !== undefined) p.set('target', o.target);
  if (o.ip !== undefined) p.set('ip', o.ip);
  const now = Date.now();
  if (o.since !== undefined) p.set('since', String(parseTimeArg(o.since, '--since', now)));
  if (o.until !== undefined) p.set('until', String(parseTimeArg(o.until, '--until', now)));
  return p;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--project <project>', 'only events of this project')
    .option('--action <glob>', 'only these actions; * matches anything (rotation.*)')
    .option('--actor <kind[:name]>', 'only this actor: operator|machine|ai_agent|system, optionally :NAME as recorded when the event was written')
    .option('--outcome <outcome>', 'success|denied|failure')
    .option('--severity <level>', 'info|warning|critical: that level and above')
    .option('--target <glob>', 'only this target; * matches anything (secret:shop/*)')
    .option('--ip <address>', 'only requests from this source address')
    .option('--since <time>', 'from this RFC 3339 time, or a duration ago (1h, 7d)')
    .option('--until <time>', 'up to this RFC 3339 time, or a duration ago');
}

/** Pages through the listing; `onPage` sees each page as it arrives. */
async function* pages(client: VaultClient, params: URLSearchParams, pageSize: number, first?: string): AsyncGenerator<AuditPageJson> {
  let cursor = first;
  for (;;) {
    const p = new URLSearchParams(params);
    p.set('limit', String(pageSize));
    if (cursor !== undefined) p.set('cursor', cursor);
    const { body } = await client.request<AuditPageJson>('GET', `/v1/audit?${p.toString()}`);
    yield body;
    if (!body.hasMore || body.nextCursor === undefined) return;
    cursor = body.nextCursor;
  }
}

function actorText(e: AuditEventJson): string {
  return `${e.actorKind}:${e.actorName ?? e.actorId ?? '-'}`;
}

const CSV_COLUMNS = ['seq', 'time', 'severity', 'actor_kind', 'actor_id', 'actor_name', 'action', 'project_id', 'target', 'outcome', 'source_ip', 'details', 'hash', 'mac'] as const;

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(e: AuditEventJson): string {
  return [e.seq, new Date(e.at).toISOString(), e.severity, e.actorKind, e.actorId, e.actorName, e.action, e.projectId, e.target, e.outcome, e.sourceIp, JSON.stringify(e.details), e.hash, e.mac]
    .map(csvCell).join(',');
}

/** Writes to stdout and waits when its buffer is full, so a slow reader holds the export back instead of memory growing. */
async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
}

function readCheckpointFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_AUDIT_CHECKPOINT', `cannot read the checkpoint file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function positiveInt(flag: string, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new SikkerKeyError('SK_ERR_USAGE', `${flag} takes a whole number from 1 to ${max}`);
    return n;
  };
}

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log');

  withFilters(audit.command('list'))
    .description('audit events, newest first (--reverse: oldest first); says when more match than were shown')
    .option('--limit <n>', 'show at most N events (default 100); with --all, the page size', positiveInt('--limit', 10_000))
    .option('--all', 'follow the pages to the last matching event')
    .option('--reverse', 'oldest first')
    .option('--cursor <cursor>', 'continue a listing from the cursor it printed')
    .option('--json', 'one JSON document: {events, order, hasMore, nextCursor?}')
    .action(async function (this: Command, o: FilterOpts & { limit?: number; all?: boolean; reverse?: boolean; cursor?: string }) {
      const params = filterParams(o);
      if (o.reverse) params.set('order', 'asc');
      const client = clientFor(this);
      const events: AuditEventJson[] = [];
      let last: AuditPageJson | undefined;
      const size = o.all ? (o.limit ?? 1000) : (o.limit ?? 100);
      for await (const page of pages(client, params, size, o.cursor)) {
        events.push(...page.events);
        last = page;
        if (!o.all) break;
      }
      const hasMore = last?.hasMore ?? false;
      const result = { events, order: last?.order ?? (o.reverse ? 'asc' : 'desc'), hasMore, ...(hasMore && last?.nextCursor ? { nextCursor: last.nextCursor } : {}) };
      out(this, result, () => {
        const body = table(['SEQ', 'TIME', 'SEVERITY', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'IP'], events.map((e) => [
          String(e.seq), new Date(e.at).toISOString(), e.severity, actorText(e), e.action, e.target, e.outcome, e.sourceIp ?? '-',
        ]));
        return hasMore
          ? `${body}\n(${events.length} shown; more events match: add --all, or continue with --cursor ${result.nextCursor ?? ''})`
          : body;
      });
    });

  withFilters(audit.command('export'))
    .description('stream every matching event, oldest first, to stdout: JSONL (with each event\'s hash, prevHash and MAC, checkable with `audit verify --file`) or CSV')
    .requiredOption('--format <format>', 'jsonl|csv')
    .option('--json', 'accepted for uniformity: the export itself is the output (JSONL is JSON, one event a line)')
    .action(async function (this: Command, o: FilterOpts & { format: string }) {
      if (o.format !== 'jsonl' && o.format !== 'csv') throw new SikkerKeyError('SK_ERR_USAGE', '--format takes jsonl or csv');
      const params = filterParams(o);
      params.set('order', 'asc');
      const client = clientFor(this);
      if (o.format === 'csv') await write(CSV_COLUMNS.join(',') + '\n');
      for await (const page of pages(client, params, 1000)) {
        let chunk = '';
        for (const e of page.events) chunk += (o.format === 'csv' ? csvLine(e) : JSON.stringify(e)) + '\n';
        if (chunk) await write(chunk);
      }
    });

  audit.command('verify')
    .description('check every event\'s hash and MAC and the head; with --checkpoint also that a saved `audit head --json` still holds; with --file an export, offline')
    .option('--checkpoint <file>', 'a saved `sikkerkey audit head --json` output: its signature must verify with the vault\'s audit key and its event must still have its hash')
    .option('--file <export>', 'verify a `audit export --format jsonl` file offline, without the vault')
    .option('--json')
    .action(async function (this: Command, o: { checkpoint?: string; file?: string }) {
      // The file is read and checked before anything is asked of the vault.
      const cp = o.checkpoint !== undefined ? parseCheckpoint(readCheckpointFile(o.checkpoint)) : undefined;
      if (o.file !== undefined) {
        const report = await verifyExportFile(o.file, cp);
        out(this, report, () => report.ok
          ? `export intact: ${report.events} events (${report.firstSeq ?? '-'}..${report.lastSeq ?? '-'})${report.gaps ? `, ${report.gaps} gaps (a filtered export: each event's own hash checked across them)` : ', contiguous'}`
            + (report.checkpoint ? `; checkpoint at event ${report.checkpoint.seq} holds: events ${report.provenFrom}..${report.checkpoint.seq} proven by the vault's signature` : '; no checkpoint given: the hashes prove consistency, not that the vault wrote them')
          : `export BROKEN at line ${report.firstBad?.line}${report.firstBad?.seq !== null ? ` (event ${report.firstBad?.seq})` : ''}: ${report.firstBad?.reason}`);
        if (!report.ok) process.exitCode = 3;
        return;
      }
      const client = clientFor(this);
      const { body } = await client.request<{ ok: boolean; events: number; macs?: number; unverifiedBefore?: number; pruned?: { firstSeq: number; lastSeq: number; prunedAt: number; events: number }; firstBad?: { seq: number; id: string | null; reason: string } }>('GET', '/v1/audit/verify');
      let result: typeof body & { checkpoint?: CheckpointResult } = body;
      if (cp) {
        const checkpoint = await checkCheckpoint(async <T>(path: string) => (await client.request<T>('GET', path)).body, cp);
        result = { ...body, ok: body.ok && checkpoint.ok, checkpoint,
          ...(body.ok && !checkpoint.ok ? { firstBad: { seq: checkpoint.seq, id: null, reason: checkpoint.reason ?? 'checkpoint mismatch' } } : {}) };
      }
      const pruned = result.pruned ? ` (events ${result.pruned.firstSeq}..${result.pruned.lastSeq} were pruned by retention at ${new Date(result.pruned.prunedAt).toISOString()}; verified from their signed checkpoint)` : '';
      out(this, result, () => result.ok
        ? `audit chain intact: ${result.events} events${result.macs !== undefined ? `, ${result.macs} MACs` : ''}${result.unverifiedBefore ? ` (events before ${result.unverifiedBefore} predate the audit keys and were accepted broken: not verified)` : ''}${pruned}${cp ? (result.checkpoint?.restore ? `; checkpoint at event ${cp.seq}: ${result.checkpoint.reason ?? ''}` : `; checkpoint at event ${cp.seq} holds`) : ''}`
        : `audit chain BROKEN at event ${result.firstBad?.seq}: ${result.firstBad?.reason}`);
      if (!result.ok) process.exitCode = 3;
    });

  audit.command('head')
    .description('a signed checkpoint of the chain head {seq, hash, at, signature, publicKey}: save it off the vault and check it later with `audit verify --checkpoint`')
    .option('--json')
    .action(async function (this: Command) {
      const { body } = await clientFor(this).request<{ seq: number; hash: string; at: number; signature: string; publicKey: string }>('GET', '/v1/audit/head');
      out(this, body, () => [
        `seq        ${body.seq}`, `hash       ${body.hash}`, `at         ${new Date(body.at).toISOString()}`,
        `signature  ${body.signature}`, `publicKey  ${body.publicKey}`,
        '(save the --json output of this command to check it later with `sikkerkey audit verify --checkpoint FILE`)',
      ].join('\n'));
    });
}

import type { Command } from 'commander';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { durationArg, table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

interface WebhookView { id: string; url: string; events: string[]; enabled: boolean; createdAt: number; previousSecretExpiresAt: number | null; failingSince: number | null }
interface DeliveryView { id: string; type: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; latencyMs: number | null; nextAttemptAt: number | null; createdAt: number }
interface AlertRuleView { id: string; webhookId: string; events: string[]; project: string | null; minSeverity: string }

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

function deliveryLine(d: DeliveryView): string {
  return `delivery ${d.id} (${d.type}): ${d.status}, ${d.attempts} attempt(s)${d.lastStatus !== null ? `, last HTTP ${d.lastStatus}` : ''}${d.lastError ? `, ${d.lastError}` : ''}`;
}

/**
 * `sikkerkey webhook …` and `sikkerkey alert …` (issue 22): signed deliveries of vault events to
 * HTTP receivers (docs/webhooks.md).
 *
 * @example
 *   sikkerkey webhook add https://hooks.example/sikkerkey --events canary.tripped,rotation.failed --json   # {"id","secret"}
 *   sikkerkey alert add --events policy.failing --project shop --min-severity warning --webhook ID
 */
export function webhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('webhooks: signed HTTP deliveries of vault events');

  webhook.command('add <url>')
    .description('add a webhook; prints its signing secret once')
    .requiredOption('--events <list>', 'comma-separated event types, or all')
    .option('--json')
    .action(async function (this: Command, url: string, o: { events: string }) {
      const { body } = await clientFor(this).request<{ id: string; secret: string }>('POST', '/v1/webhooks', { url, events: list(o.events) });
      out(this, { id: body.id, secret: body.secret }, () => `webhook ${body.id} added\nsigning secret (shown once): ${body.secret}`);
    });

  webhook.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ webhooks: WebhookView[] }>('GET', '/v1/webhooks');
    out(this, body, () => table(['ID', 'URL', 'EVENTS', 'FAILING SINCE', 'PREVIOUS SECRET UNTIL'],
      body.webhooks.map((w) => [w.id, w.url, w.events.join(','), time(w.failingSince), time(w.previousSecretExpiresAt)])));
  });

  webhook.command('remove <id>').option('--json').action(async function (this: Command, id: string) {
    const { body } = await clientFor(this).request<{ removed: string }>('DELETE', `/v1/webhooks/${enc(id)}`);
    out(this, body, () => `webhook ${id} removed`);
  });

  webhook.command('deliveries <id>').option('--limit <n>', 'newest N deliveries (default 100)').option('--json').action(async function (this: Command, id: string, o: { limit?: string }) {
    const { body } = await clientFor(this).request<{ deliveries: DeliveryView[] }>('GET', `/v1/webhooks/${enc(id)}/deliveries${o.limit ? `?limit=${encodeURIComponent(o.limit)}` : ''}`);
    out(this, body, () => table(['ID', 'TYPE', 'STATUS', 'ATTEMPTS', 'LATENCY', 'NEXT RETRY', 'LAST'],
      body.deliveries.map((d) => [d.id, d.type, d.status, String(d.attempts), d.latencyMs === null ? '-' : `${d.latencyMs} ms`, time(d.nextAttemptAt),
        d.lastError ?? (d.lastStatus === null ? '-' : `HTTP ${d.lastStatus}`)])));
  });

  webhook.command('redeliver <deliveryId>').option('--json').action(async function (this: Command, id: string) {
    const { body } = await clientFor(this).request<{ delivery: DeliveryView }>('POST', `/v1/webhook-deliveries/${enc(id)}/redeliver`);
    out(this, body.delivery, () => `${deliveryLine(body.delivery)}: queued again`);
  });

  webhook.command('rotate-secret <id>')
    .description('a new signing secret (printed once); the old one keeps signing during the overlap')
    .option('--overlap <duration>', 'how long the previous secret signs too (default 24h; 0 stops it now)', durationArg('--overlap'))
    .option('--json')
    .action(async function (this: Command, id: string, o: { overlap?: string }) {
      const { body } = await clientFor(this).request<{ id: string; secret: string; previousSecretExpiresAt: number | null }>('POST', `/v1/webhooks/${enc(id)}/rotate-secret`, o.overlap === undefined ? {} : { overlap: o.overlap });
      out(this, body, () => `webhook ${id}: new signing secret (shown once): ${body.secret}\nprevious secret signs until ${time(body.previousSecretExpiresAt)}`);
    });

  const alert = program.command('alert').description('alert rules: which events go to which webhook');

  alert.command('add')
    .requiredOption('--events <list>', 'comma-separated event types')
    .requiredOption('--webhook <id>', 'the webhook to send to')
    .option('--project <name>', 'only events of this project')
    .option('--min-severity <severity>', 'info | warning | critical (default info)')
    .option('--json')
    .action(async function (this: Command, o: { events: string; webhook: string; project?: string; minSeverity?: string }) {
      const { body } = await clientFor(this).request<{ rule: AlertRuleView }>('POST', '/v1/alert-rules', {
        events: list(o.events), webhook: o.webhook, ...(o.project !== undefined ? { project: o.project } : {}), ...(o.minSeverity !== undefined ? { minSeverity: o.minSeverity } : {}),
      });
      out(this, body.rule, () => `alert rule ${body.rule.id} added`);
    });

  alert.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ rules: AlertRuleView[] }>('GET', '/v1/alert-rules');
    out(this, body, () => table(['ID', 'EVENTS', 'PROJECT', 'MIN SEVERITY', 'WEBHOOK'], body.rules.map((r) => [r.id, r.events.join(','), r.project ?? '(all)', r.minSeverity, r.webhookId])));
  });

  alert.command('remove <id>').option('--json').action(async function (this: Command, id: string) {
    const { body } = await clientFor(this).request<{ removed: string }>('DELETE', `/v1/alert-rules/${enc(id)}`);
    out(this, body, () => `alert rule ${id} removed`);
  });

  alert.command('test <id>').description('send a signed alert.test event to the rule\'s webhook now').option('--json').action(async function (this: Command, id: string) {
    const { body } = await clientFor(this).request<{ delivery: DeliveryView }>('POST', `/v1/alert-rules/${enc(id)}/test`);
    out(this, body.delivery, () => deliveryLine(body.delivery));
  });
}

import type { Command } from 'commander';
import { SikkerKeyError } from '../../protocol/errors.js';
import { collect } from '../../protocol/cli.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { table } from './cli-format.js';
import { clientFor, out } from './cli-context.js';

interface AiAgentView {
  id: string; name: string; keyId: string; scopes: string[]; status: string; allowCidrs: string[]; ratePerMinute: number | null;
  createdAt: number; disabledAt: number | null; revokedAt: number | null;
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/**
 * `sikkerkey ai-agent …` (issue 23): management identities that never read a secret value
 * (README, "AI agents"). Creating, disabling, enabling and revoking take an admin or owner;
 * listing, any operator.
 *
 * @example
 *   sikkerkey keygen --out ops-bot.key --json                       # {"keyId","publicKey"}
 *   sikkerkey ai-agent create ops-bot --public-key BASE64 --scopes rotations:read,rotations:trigger --allow-cidr 10.0.0.0/8 --json   # {"id","keyId",…}
 *   sikkerkey ai-agent disable ops-bot
 */
export function aiAgentCommands(program: Command): void {
  const agent = program.command('ai-agent').description('AI agents: management identities with scopes, structurally blind to secret values');

  agent.command('create <name>')
    .description('register an AI agent\'s public key with scopes (admin or owner); `all` expands to every scope that exists now')
    .requiredOption('--public-key <key>', 'the agent\'s Ed25519 public key (base64 raw or SPKI PEM; make one with `sikkerkey keygen`)')
    .requiredOption('--scopes <list>', 'comma-separated scopes from the catalog (docs/api.md, "AI agent scopes"), or all')
    .option('--allow-cidr <cidr>', 'only from this address range (repeatable; default: any address the vault accepts)', collect)
    .option('--rate-limit <n>', 'requests per minute for its key (default: the vault\'s, 600)')
    .option('--json')
    .action(async function (this: Command, name: string, o: { publicKey: string; scopes: string; allowCidr?: string[]; rateLimit?: string }) {
      const rate = o.rateLimit === undefined ? undefined : Number(o.rateLimit);
      if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < 1)) throw new SikkerKeyError('SK_ERR_USAGE', '--rate-limit takes a whole number of requests per minute');
      const { body } = await clientFor(this).request<AiAgentView>('POST', '/v1/ai-agents', {
        name, publicKey: o.publicKey, scopes: list(o.scopes), ...(o.allowCidr ? { allowCidrs: o.allowCidr } : {}), ...(rate !== undefined ? { ratePerMinute: rate } : {}),
      });
      out(this, { id: body.id, keyId: body.keyId, name: body.name, scopes: body.scopes },
        () => `AI agent ${body.name} created (key id ${body.keyId})\nscopes: ${body.scopes.join(', ')}${body.allowCidrs.length ? `\nfrom: ${body.allowCidrs.join(', ')}` : ''}`);
    });

  agent.command('list').option('--json').action(async function (this: Command) {
    const { body } = await clientFor(this).request<{ aiAgents: AiAgentView[] }>('GET', '/v1/ai-agents');
    out(this, body, () => table(['NAME', 'STATUS', 'KEY ID', 'SCOPES', 'FROM', 'RATE/MIN'], body.aiAgents.map((a) => [
      a.name, a.status, a.keyId, a.scopes.join(','), a.allowCidrs.length ? a.allowCidrs.join(',') : 'any', a.ratePerMinute === null ? 'default' : String(a.ratePerMinute),
    ])));
  });

  for (const [verb, what] of [
    ['disable', 'refuse the agent from its next request on, on every worker (admin or owner)'],
    ['enable', 're-enable a disabled agent (admin or owner)'],
    ['revoke', 'refuse the agent\'s key for good; its name stays taken (admin or owner)'],
  ] as const) {
    agent.command(`${verb} <name>`).description(what).option('--json').action(async function (this: Command, name: string) {
      const { body } = await clientFor(this).request<{ aiAgent: AiAgentView }>('POST', `/v1/ai-agents/${enc(name)}/${verb}`);
      out(this, body.aiAgent, () => `AI agent ${body.aiAgent.name} is ${body.aiAgent.status}`);
    });
  }
}

/**
 * `sikkerkey mcp`: a Model Context Protocol server over stdio that lets an AI assistant manage a
 * vault as an AI agent (issue 23). Every tool is one or two signed requests with the AI agent's
 * key; none returns a secret value — there is no tool for it, and the vault would refuse one
 * anyway (the routes that return values know machines only).
 *
 * Tools: list projects, secrets (names and versions), machines and rotation policies; a secret's
 * rotation status; trigger a rotation and report its outcome; read audit events; create an
 * enrollment token (its machines wait for an operator's `machine approve`); plant a canary.
 *
 * @example
 *   SIKKERKEY_URL=https://vault:8200 sikkerkey mcp --key-file ~/.sikkerkey/ops-bot.key
 *   # an MCP client configuration: {"command": "sikkerkey", "args": ["mcp", "--key-file", "/path/ops-bot.key"], "env": {"SIKKERKEY_URL": "…"}}
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { SikkerKeyError } from '../../protocol/errors.js';
import { VaultClient, encodePathSegment as enc } from '../../protocol/client.js';
import type { RotationStatus } from '../../protocol/api-types.js';
import { SUCCEEDED_STATE } from '../../protocol/api-types.js';

/** What a tool may ask of the vault: signed requests, nothing else. */
export interface McpVault {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface McpTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments (MCP `inputSchema`); checked before the tool runs. */
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[]; additionalProperties: false };
  run(args: Record<string, unknown>, vault: McpVault): Promise<unknown>;
}

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } as const;
const PROJECT = { ...NAME, description: 'the project\'s name' } as const;
const SECRET = { ...NAME, description: 'the secret\'s name' } as const;
const NONE = { type: 'object', properties: {}, additionalProperties: false } as const;

/** The states a rotation job ends in, and `stuck` (docs/rotation-states.md). */
const FINISHED: ReadonlySet<string> = new Set(['promoted', 'retired', 'preflight_passed', 'failed', 'stuck', 'cancelled']);

const secretPath = (a: Record<string, unknown>): string => `/v1/projects/${enc(String(a['project']))}/secrets/${enc(String(a['secret']))}`;

function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** Every tool the server offers: management only, none that returns a value. */
export const MCP_TOOLS: readonly McpTool[] = Object.freeze([
  {
    name: 'list_projects',
    description: 'List the vault\'s projects (name, key version, whether a canary locked it). Needs the scope projects:read.',
    inputSchema: NONE,
    run: (_a, v) => v.request('GET', '/v1/projects'),
  },
  {
    name: 'list_secrets',
    description: 'List a project\'s secrets: names, kinds and version numbers, never a value. Needs secrets:read.',
    inputSchema: { type: 'object', properties: { project: PROJECT }, required: ['project'], additionalProperties: false },
    run: (a, v) => v.request('GET', `/v1/projects/${enc(String(a['project']))}/secrets`),
  },
  {
    name: 'list_machines',
    description: 'List machines (workloads and rotation agents): status, labels, last seen, expiry. Needs machines:read.',
    inputSchema: NONE,
    run: (_a, v) => v.request('GET', '/v1/machines'),
  },
  {
    name: 'list_rotations',
    description: 'List rotation policies with their latest job state, last error and next run; a policy an AI agent set shows pausedReason awaiting_approval until an operator approves it. Needs rotations:read.',
    inputSchema: NONE,
    run: (_a, v) => v.request('GET', '/v1/rotations'),
  },
  {
    name: 'rotation_status',
    description: 'The rotation status of one secret: state of its latest rotation, version, last success, last error, next attempt. Needs rotations:read or rotations:trigger.',
    inputSchema: { type: 'object', properties: { project: PROJECT, secret: SECRET }, required: ['project', 'secret'], additionalProperties: false },
    run: (a, v) => v.request('GET', `${secretPath(a)}/rotation`),
  },
  {
    name: 'trigger_rotation',
    description: 'Rotate a secret\'s database credential now, through its rotation agent, and report the outcome (promoted, failed with the error code, or stuck). '
      + 'Only a policy an operator set or approved runs. Needs rotations:trigger.',
    inputSchema: {
      type: 'object',
      properties: {
        project: PROJECT, secret: SECRET,
        wait: { type: 'boolean', description: 'wait for the outcome (default true)' },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, description: 'how long to wait (default 300)' },
      },
      required: ['project', 'secret'], additionalProperties: false,
    },
    run: async (a, v) => {
      const created = await v.request<{ id: string }>('POST', `${secretPath(a)}/rotation/run`);
      if (a['wait'] === false) return { rotationId: created.id, state: 'pending', finished: false };
      const deadline = Date.now() + Number(a['timeoutSeconds'] ?? 300) * 1000;
      for (;;) {
        const status = await v.request<RotationStatus>('GET', `${secretPath(a)}/rotation?rotation=${enc(created.id)}`);
        const finished = FINISHED.has(status.state);
        if (finished || Date.now() > deadline) {
          return {
            rotationId: created.id, state: status.state, finished, promoted: status.state === SUCCEEDED_STATE.rotate,
            version: status.version, latencyMs: status.latencyMs, lastError: status.lastError, nextAttemptAt: status.nextAttemptAt, agent: status.agent.name,
          };
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  },
  {
    name: 'read_audit_events',
    description: 'Read the hash-chained audit log, oldest first: who (actorKind, actorId; details.aiAgent names an AI agent) did what to what, with the outcome. '
      + 'Filter by project, by time (since, Unix ms) or after a sequence number; at most limit events (default 100). Needs audit:read.',
    inputSchema: {
      type: 'object',
      properties: {
        project: { type: 'string', maxLength: 128 }, since: { type: 'integer', minimum: 0 }, after: { type: 'integer', minimum: 0 },
        limit: { type: 'integer', minimum: 1, maximum: 10000 },
      },
      additionalProperties: false,
    },
    run: (a, v) => v.request('GET', `/v1/audit${query({ project: a['project'], since: a['since'], after: a['after'], limit: a['limit'] ?? 100, order: 'asc' })}`),
  },
  {
    name: 'create_enrollment_token',
    description: 'Create an enrollment token for machines of a project (shown once). Machines enrolled with a token an AI agent created wait for an operator\'s `sikkerkey machine approve` before they can authenticate. Needs enroll-tokens:write.',
    inputSchema: {
      type: 'object',
      properties: {
        project: PROJECT,
        machineLifetime: { type: 'string', minLength: 2, maxLength: 16, description: 'each machine\'s lifetime, e.g. 30d' },
        secrets: { type: 'array', maxItems: 64, items: NAME, description: 'grant the machines these secrets (default: the whole project)' },
        labels: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 64 } },
        maxUses: { type: 'integer', minimum: 1, maximum: 1000000 },
        expiresIn: { type: 'string', minLength: 2, maxLength: 16, description: 'how long the token can be used, e.g. 24h' },
        name: { type: 'string', minLength: 1, maxLength: 128 },
      },
      required: ['project', 'machineLifetime'], additionalProperties: false,
    },
    run: async (a, v) => {
      const res = await v.request<{ id: string; token: string; expiresAt: number }>('POST', '/v1/enrollment-tokens', a);
      return { ...res, note: 'machines enrolled with this token wait for an operator\'s `sikkerkey machine approve NAME`' };
    },
  },
  {
    name: 'plant_canary',
    description: 'Plant a canary: a decoy secret whose first read by any machine locks its project and raises canary.tripped. Give a plausible value or fields (they are a decoy, not a secret). Needs canaries:write.',
    inputSchema: {
      type: 'object',
      properties: {
        project: PROJECT, name: SECRET,
        value: { type: 'string', maxLength: 65536 },
        fields: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 65536 } },
        lockMachineProjects: { type: 'boolean', description: 'also lock every project the reading machine holds grants in' },
      },
      required: ['project', 'name'], additionalProperties: false,
    },
    run: (a, v) => {
      const { project, ...body } = a;
      return v.request('POST', `/v1/projects/${enc(String(project))}/canaries`, body);
    },
  },
] satisfies McpTool[]);

function text(value: unknown, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }], ...(isError ? { isError: true } : {}) };
}

/** The MCP server over these tools, talking to the vault through `vault`. */
export function createMcpServer(vault: McpVault, version: string): Server {
  const server = new Server({ name: 'sikkerkey', version }, {
    capabilities: { tools: {} },
    instructions: 'Manage a SikkerKey vault as an AI agent: list projects, secrets, machines and rotations, rotate credentials, read the audit log, create enrollment tokens, plant canaries. '
      + 'No tool reads a secret value, and the vault refuses AI agents on every route that returns one. Each tool needs a scope the operator granted this agent.',
  });
  const ajv = new Ajv({ allErrors: false, strict: false });
  const checks = new Map<string, ValidateFunction>(MCP_TOOLS.map((t) => [t.name, ajv.compile(t.inputSchema)]));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: MCP_TOOLS.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const tool = MCP_TOOLS.find((t) => t.name === req.params.name);
    const check = checks.get(req.params.name);
    if (!tool || !check) return text(`no tool named ${JSON.stringify(req.params.name)}`, true);
    const args = req.params.arguments ?? {};
    if (!check(args)) return text(`SK_ERR_VALIDATION: ${ajv.errorsText(check.errors)}`, true);
    try {
      return text(await tool.run(args, vault));
    } catch (err) {
      // The vault's refusal, as the agent should read it: its registered code and message.
      if (err instanceof SikkerKeyError) return text(`${err.code}: ${err.message}`, true);
      return text(`SK_ERR_INTERNAL: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  });
  return server;
}

/**
 * Serves MCP on stdin/stdout until stdin closes. Nothing else is written to stdout (it is the
 * protocol's channel); problems go to stderr.
 */
export async function serveMcp(opts: { url: string; keyFile: string; version: string }): Promise<void> {
  const client = new VaultClient({ url: opts.url, keyFile: opts.keyFile });
  const vault: McpVault = { request: async <T>(method: string, path: string, body?: unknown) => (await client.request<T>(method, path, body)).body };
  const server = createMcpServer(vault, opts.version);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(new StdioServerTransport());
  await closed;
  await server.close();
  client.close();
}

// The MCP server end to end (issue 23): an AI agent holding only `rotations:trigger` rotates a real
// PostgreSQL credential (a throwaway cluster that enforces scram-sha-256) through `sikkerkey mcp`,
// driven over stdio by the MCP SDK's own client — a real vault process and a real rotation agent.
// No tool answer carries a password, a scope it lacks is refused, and `ai-agent disable` stops it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { loginWithFields } from '../support/engine-fixtures.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import type { ScramCluster } from '../support/pg-scram-cluster.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { BIN, jsonOf } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';

const ROLE = 'app_mcp_e2e';
const INITIAL = 'initial-password-mcp-0001';

let cluster: ScramCluster;
let h: RotationHarness;
let agent: RunningProcess;
let mcp: Client;
let aiKeyFile: string;
const answers: string[] = [];

function login(user: string, password: string): Promise<boolean> {
  return loginWithFields('postgres', { host: cluster.host, port: String(cluster.port), database: 'postgres', username: user, password });
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

/** Calls a tool; returns its text and whether it is an error (every answer is kept for the leak check). */
async function call(name: string, args: Record<string, unknown> = {}): Promise<{ text: string; isError: boolean }> {
  const res = await mcp.callTool({ name, arguments: args }, undefined, { timeout: 180_000 });
  const content = res.content as Array<{ type: string; text?: string }>;
  const text = content.map((c) => c.text ?? '').join('\n');
  answers.push(text);
  return { text, isError: res.isError === true };
}

before(async () => {
  cluster = await scramCluster();
  await admin(async (c) => {
    await c.query(`DROP ROLE IF EXISTS ${ROLE}`);
    await c.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD ${c.escapeLiteral(INITIAL)}`);
    await c.query('DROP ROLE IF EXISTS sk_mcp_admin');
    await c.query(`CREATE ROLE sk_mcp_admin LOGIN CREATEROLE PASSWORD ${c.escapeLiteral('admin-password-mcp-0001')}`);
  });
  const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
  h = await startRotationHarness({
    engine: 'postgres',
    target: { ...base, username: ROLE, password: INITIAL },
    admin: { ...base, username: 'sk_mcp_admin', password: 'admin-password-mcp-0001' },
  });
  aiKeyFile = join(h.dir, 'mcp-bot.key');
  const made = jsonOf<{ publicKey: string; keyId: string }>(await h.sk(['keygen', '--out', aiKeyFile, '--json']));
  const created = jsonOf<{ id: string; keyId: string; scopes: string[] }>(await h.sk(['ai-agent', 'create', 'mcp-bot', '--public-key', made.publicKey, '--scopes', 'rotations:trigger', '--json']));
  assert.equal(created.keyId, made.keyId);
  assert.deepEqual(created.scopes, ['rotations:trigger']);
  agent = await h.startAgent();
  mcp = new Client({ name: 'sikkerkey-e2e', version: '1.0.0' });
  // Only what the server needs: the vault URL, no operator key in its environment.
  await mcp.connect(new StdioClientTransport({
    command: process.execPath, args: [BIN.sikkerkey, 'mcp', '--key-file', aiKeyFile],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SIKKERKEY_URL: h.url }, stderr: 'pipe',
  }));
});
after(async () => {
  await mcp?.close().catch(() => undefined);
  await agent?.stop();
  await h?.close();
  await admin((c) => c.query(`DROP ROLE IF EXISTS ${ROLE}`)).catch(() => undefined);
});

test('the MCP server lists management tools only: none reads a secret value', async () => {
  const { tools } = await mcp.listTools();
  const names = tools.map((t) => t.name).sort();
  for (const must of ['list_projects', 'list_machines', 'list_rotations', 'trigger_rotation', 'read_audit_events', 'create_enrollment_token', 'plant_canary']) {
    assert.ok(names.includes(must), `tool ${must}`);
  }
  assert.deepEqual(names.filter((n) => /read_secret|get_secret|secret_value|batch/.test(n)), []);
  for (const t of tools) assert.equal(t.inputSchema.type, 'object', t.name);
});

test('an AI agent with rotations:trigger rotates a real PostgreSQL credential through the MCP server and gets the outcome', async () => {
  const before = await h.read();
  assert.equal(await login(ROLE, before.fields.password as string), true);
  const r = await call('trigger_rotation', { project: 'db', secret: 'app' });
  assert.equal(r.isError, false, r.text);
  const outcome = JSON.parse(r.text) as { state: string; promoted: boolean; finished: boolean; version: number; rotationId: string; lastError: unknown };
  assert.equal(outcome.state, 'promoted', r.text);
  assert.equal(outcome.promoted, true);
  const now = await h.read();
  assert.equal(now.version, before.version + 1);
  assert.equal(outcome.version, now.version);
  assert.notEqual(now.fields.password, before.fields.password);
  assert.equal(await login(ROLE, now.fields.password as string), true, 'the promoted password logs in');
  assert.equal(await login(ROLE, before.fields.password as string), false, 'the old one is refused');

  // Its trail names it: the run is the agent's, audited under its name.
  const events = jsonOf<{ events: Array<{ action: string; actorKind: string; details: Record<string, unknown> }> }>(await h.sk(['audit', 'list', '--project', 'db', '--all', '--json'])).events;
  assert.ok(events.some((e) => e.action === 'rotation.created' && e.actorKind === 'ai_agent' && e.details['aiAgent'] === 'mcp-bot'), 'the rotation was created by the AI agent');
  for (const text of answers) {
    for (const pw of [before.fields.password, now.fields.password, 'admin-password-mcp-0001']) assert.equal(text.includes(pw as string), false, 'a password in a tool answer');
  }
});

test('a tool whose scope the agent lacks answers the vault\'s refusal; a disabled agent is refused on the next call', async () => {
  const denied = await call('list_projects');
  assert.equal(denied.isError, true);
  assert.match(denied.text, /^SK_ERR_SCOPE_MISSING: /);
  const status = await call('rotation_status', { project: 'db', secret: 'app' });
  assert.equal(status.isError, false, status.text);
  assert.equal((JSON.parse(status.text) as { state: string }).state, 'promoted');
  const bad = await call('trigger_rotation', { project: 'db' });
  assert.equal(bad.isError, true);
  assert.match(bad.text, /^SK_ERR_VALIDATION: /);

  jsonOf(await h.sk(['ai-agent', 'disable', 'mcp-bot', '--json']));
  const listed = jsonOf<{ aiAgents: Array<{ name: string; status: string }> }>(await h.sk(['ai-agent', 'list', '--json']));
  assert.deepEqual(listed.aiAgents.map((a) => [a.name, a.status]), [['mcp-bot', 'disabled']]);
  const off = await call('rotation_status', { project: 'db', secret: 'app' });
  assert.equal(off.isError, true);
  assert.match(off.text, /^SK_ERR_AI_AGENT_DISABLED: /);
  jsonOf(await h.sk(['ai-agent', 'enable', 'mcp-bot', '--json']));
  assert.equal((await call('rotation_status', { project: 'db', secret: 'app' })).isError, false);
});

test('`sikkerkey mcp` never falls back to the operator\'s SIKKERKEY_KEY_FILE', async () => {
  const r = await h.sk(['mcp']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error SK_ERR_USAGE: no AI agent key/);
});

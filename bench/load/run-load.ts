/**
 * Runs bench/load/load-generator.js as its own process (pinned to `cpu` when taskset exists) and
 * returns what it measured.
 *
 * @example
 *   const r = await runLoad({ url, keyFile, paths: ['/v1/projects/p/secrets/s'], connections: 10, seconds: 10, cpu: 1 });
 *   r.ok_rps; r.p99_ms; r.errors;
 */
import { fileURLToPath } from 'node:url';
import { pinnedCommand, spawnTracked } from '../support/child-processes.js';

export interface LoadOptions {
  url: string;
  keyFile: string;
  paths: string[];
  method?: 'GET' | 'POST';
  /** JSON request body (signed with content-type application/json). */
  body?: string;
  connections: number;
  seconds: number;
  warmup?: number;
  cpu?: number;
  /** Count a batch answer as an error unless every item in it is 200. */
  checkBatch?: boolean;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  /** Answers recorded in the measured window, any status. */
  requests: number;
  rps: number;
  /** 200 answers (every item 200 with checkBatch) per second. */
  ok_rps: number;
  /** Latency of the 200 answers. */
  p50_ms: number;
  p99_ms: number;
  /** Count per status ("200", "401", "error:ECONNRESET", "item:403" …). */
  statuses: Record<string, number>;
  /** Answers that were not 200. */
  errors: number;
  first_error?: string;
  /** The generator's CPU use over the window, in cores: near 1.0 pinned means the generator, not the server, was the limit. */
  generator_cpu: number;
}

const SCRIPT = fileURLToPath(new URL('./load-generator.js', import.meta.url));

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const argv = [process.execPath, SCRIPT, '--url', opts.url, '--key-file', opts.keyFile,
    ...opts.paths.flatMap((p) => ['--path', p]), '--method', opts.method ?? 'GET',
    ...(opts.body !== undefined ? ['--body', opts.body] : []),
    '--connections', String(opts.connections), '--seconds', String(opts.seconds), '--warmup', String(opts.warmup ?? 2),
    ...(opts.checkBatch ? ['--check-batch'] : [])];
  const child = spawnTracked(pinnedCommand(opts.cpu, argv));
  const code = await child.exited;
  const lines = child.output().trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`the load generator failed (${String(code)}): ${child.output().slice(-2000)}`);
  return JSON.parse(last) as LoadResult;
}

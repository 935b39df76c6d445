#!/usr/bin/env node
// sikkerkey-agent: the host-side agent. `init` makes the machine's key, `enroll` registers it with a
// token, `get` does one signed read,
// `run` (the rotation daemon) drives database providers (rotations and lease jobs) and keeps the config's templates rendered;
// `lease` takes a leased database login;
// `exec` and `render` deliver secrets to applications (agent/delivery/).
import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { Command } from 'commander';
import { SikkerKeyError } from '../protocol/errors.js';
import { collect, printError, printResult, runCli } from '../protocol/cli.js';
import { generateIdentityKey, readPrivateKeyFile, writePrivateKeyFile } from '../protocol/keys.js';
import { VaultClient } from '../protocol/client.js';

const program = new Command('sikkerkey-agent')
  .description('SikkerKey agent: machine identity, signed reads, credential rotation')
  .version(process.env.npm_package_version ?? '0.1.0')
  // The program's own options (--version) only before a command: `get … --version N` is get's.
  .enablePositionalOptions();

program.command('init')
  .description('generate this machine\'s Ed25519 key (kept if it exists) and print its public key')
  .requiredOption('--key-file <file>', 'where the private key lives (PKCS#8 PEM, mode 0600)')
  .option('--json', 'one JSON document on stdout')
  .action((opts: { keyFile: string; json?: boolean }) => {
    const key = existsSync(opts.keyFile) ? readPrivateKeyFile(opts.keyFile) : generateIdentityKey();
    if (!existsSync(opts.keyFile)) writePrivateKeyFile(opts.keyFile, key.privateKey);
    const publicKey = Buffer.from(key.publicKey).toString('base64');
    printResult(Boolean(opts.json), { keyId: key.keyId, publicKey }, () => `public key: ${publicKey}\nkey id:     ${key.keyId}`);
  });

program.command('get <project> <secret>')
  .description('one signed read: prints the value (a structured secret: its granted fields as JSON)')
  .option('--field <field>', 'print only this field of a structured secret')
  .option('--version <n>', 'read this version if it was ever live (live, previous or retired), e.g. to roll an application back')
  .option('--url <url>', 'vault URL (default: SIKKERKEY_URL)')
  .option('--key-file <file>', 'machine key (default: SIKKERKEY_AGENT_KEY_FILE)')
  .option('--json', 'the whole answer as one JSON document')
  .action(async (project: string, secret: string, opts: { field?: string; version?: string; url?: string; keyFile?: string; json?: boolean }) => {
    const version = opts.version === undefined ? undefined : Number(opts.version);
    if (version !== undefined && (!/^[1-9]\d{0,9}$/.test(opts.version ?? '') || version > 2_147_483_647)) throw new SikkerKeyError('SK_ERR_USAGE', '--version takes a version number (1, 2, …)');
    const url = opts.url ?? process.env.SIKKERKEY_URL;
    const keyFile = opts.keyFile ?? process.env.SIKKERKEY_AGENT_KEY_FILE;
    if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
    if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no machine key: set SIKKERKEY_AGENT_KEY_FILE or pass --key-file');
    // SIKKERKEY_CA_FILE / SIKKERKEY_PIN_SHA256 are read by the client itself, for https:// only.
    const client = new VaultClient({ url, keyFile });
    const read = await client.getSecret(project, secret, version !== undefined ? { version } : {});
    if (opts.json) return printResult(true, read, () => '');
    if (opts.field !== undefined) {
      const value = read.fields?.[opts.field];
      if (value === undefined) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no granted field ${JSON.stringify(opts.field)} in ${project}/${secret}`);
      process.stdout.write(value + '\n');
    } else if (read.fields) {
      process.stdout.write(JSON.stringify(read.fields) + '\n');
    } else {
      process.stdout.write((read.value ?? '') + '\n');
    }
  });

program.command('lease <project> <role>')
  .description('lease a database login of a lease role: waits until the agent serving the role made it, then prints its fields')
  .option('--ttl <duration>', 'how long the lease lasts (e.g. 1h; default: the role\'s ttl, at most its max ttl)')
  .option('--wait <duration>', 'how long to wait for the agent to make the login', '2m')
  .option('--url <url>', 'vault URL (default: SIKKERKEY_URL)')
  .option('--key-file <file>', 'machine key (default: SIKKERKEY_AGENT_KEY_FILE)')
  .option('--json', 'the Lease object as one JSON document (leaseId, state, expiresAt, maxExpiresAt, fields)')
  .addHelpText('after', `
The lease is not revoked when this command exits: it ends at its expiry, or with
sikkerkey lease revoke (an operator). To hold a login only while a command runs, use
sikkerkey-agent exec --lease NAME=project/role -- COMMAND.

Example:
  sikkerkey-agent lease shop app-ro --ttl 1h --json`)
  .action(async (project: string, role: string, opts: { ttl?: string; wait: string; url?: string; keyFile?: string; json?: boolean }) => {
    const { acquireLease } = await import('./leases/lease-client.js');
    const { parseDuration } = await import('../protocol/duration.js');
    const timeoutMs = parseDuration(opts.wait, '--wait', 'SK_ERR_USAGE');
    if (opts.ttl !== undefined) parseDuration(opts.ttl, '--ttl', 'SK_ERR_USAGE');
    const url = opts.url ?? process.env.SIKKERKEY_URL;
    const keyFile = opts.keyFile ?? process.env.SIKKERKEY_AGENT_KEY_FILE;
    if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
    if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no machine key: set SIKKERKEY_AGENT_KEY_FILE or pass --key-file');
    const client = new VaultClient({ url, keyFile });
    try {
      const lease = await acquireLease(client, { project, role, timeoutMs, ...(opts.ttl === undefined ? {} : { ttl: opts.ttl }) });
      printResult(Boolean(opts.json), lease, () => [
        `lease:   ${lease.leaseId} (${lease.project}/${lease.role}, ${lease.state})`,
        `expires: ${new Date(lease.expiresAt).toISOString()} (renewable until ${new Date(lease.maxExpiresAt).toISOString()})`,
        ...Object.entries(lease.fields ?? {}).map(([k, v]) => `${(k + ':').padEnd(9)}${v}`),
      ].join('\n'));
    } finally {
      client.close();
    }
  });

program.command('enroll')
  .description('register this machine with an enrollment or bootstrap token (the key is made here if the file does not exist)')
  .option('--url <url>', 'vault URL (default: SIKKERKEY_URL)')
  .option('--token <token>', 'the enrollment (ske_…) or bootstrap (skb_…) token')
  .option('--token-file <file>', 'read the token from this file instead (e.g. a systemd credential)')
  .option('--key-file <file>', 'machine key (default: SIKKERKEY_AGENT_KEY_FILE); generated with mode 0600 if absent')
  .option('--hostname <name>', 'the hostname to state (default: this host\'s name; advisory for the vault)')
  .option('--json', 'one JSON document on stdout')
  .action(async (opts: { url?: string; token?: string; tokenFile?: string; keyFile?: string; hostname?: string; json?: boolean }) => {
    const url = opts.url ?? process.env.SIKKERKEY_URL;
    const keyFile = opts.keyFile ?? process.env.SIKKERKEY_AGENT_KEY_FILE;
    if (!url) throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
    if (!keyFile) throw new SikkerKeyError('SK_ERR_USAGE', 'no machine key file: set SIKKERKEY_AGENT_KEY_FILE or pass --key-file');
    if ((opts.token === undefined) === (opts.tokenFile === undefined)) throw new SikkerKeyError('SK_ERR_USAGE', 'give exactly one of --token and --token-file');
    let token = opts.token;
    if (opts.tokenFile !== undefined) {
      try {
        token = readFileSync(opts.tokenFile, 'utf8').trim();
      } catch (err) {
        throw new SikkerKeyError('SK_ERR_USAGE', `cannot read --token-file ${opts.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    // An existing key file is used as it is (re-running enroll never replaces a key); a new one
    // is written before the request, so a registration that succeeds is never left without its key.
    const hadKey = existsSync(keyFile);
    const key = hadKey ? readPrivateKeyFile(keyFile) : generateIdentityKey();
    if (!hadKey) writePrivateKeyFile(keyFile, key.privateKey);
    const client = new VaultClient({
      url, key: { keyId: key.keyId, privateKey: key.privateKey },
      ...(process.env.SIKKERKEY_CA_FILE ? { caFile: process.env.SIKKERKEY_CA_FILE } : {}),
    });
    try {
      const { body } = await client.request<{ machineId: string; name: string; keyId: string; expiresAt: number | null; status: string }>('POST', '/v1/enroll', {
        token, publicKey: Buffer.from(key.publicKey).toString('base64url'), hostname: opts.hostname ?? osHostname(),
      });
      const result = { machineId: body.machineId, name: body.name, keyId: body.keyId, expiresAt: body.expiresAt, status: body.status };
      printResult(Boolean(opts.json), result, () => [
        `enrolled as ${result.name} (key id ${result.keyId})`,
        `status:  ${result.status}${result.status === 'pending_approval' ? ' — an operator must run: sikkerkey machine approve ' + result.name : ''}`,
        `expires: ${result.expiresAt === null ? 'never' : new Date(result.expiresAt).toISOString()}`,
      ].join('\n'));
    } finally {
      client.close();
    }
  });

program.command('run')
  .description('run the rotation daemon: long-poll the vault, apply and prove credentials')
  .option('--config <file>', 'JSON or YAML config (vaultUrl, keyFile, health.listen, concurrency, log.level, caFile, pinSha256, pollWaitSeconds)')
  .action(async (opts: { config?: string }) => {
    const { loadAgentConfig } = await import('./config.js');
    const { AgentDaemon } = await import('./runtime/agent-daemon.js');
    const config = loadAgentConfig(opts.config);
    const daemon = new AgentDaemon(config);
    await daemon.start();
    const templates = config.templates.length === 0 ? undefined : await followTemplates({ config: opts.config }, () => daemon.countCacheRead());
    let signals = 0;
    const onSignal = (): void => {
      signals += 1;
      if (signals > 1) process.exit(1); // a second signal: at once
      // Not awaited here (a signal handler cannot wait): it ends run() below, which then awaits
      // stop() itself; a failure of this call is still reported.
      daemon.stop().catch((err: unknown) => { process.exitCode = printError(err); });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await daemon.run();
    await daemon.stop();
    await templates?.stop();
  });

/** The templates of `run`, beside the rotation daemon: a failure to render is logged, not fatal to rotation. */
async function followTemplates(opts: { config?: string }, onCacheRead: () => void): Promise<{ stop: () => Promise<void> }> {
  const { deliverySetup, renderTemplates, stderrLog } = await import('./delivery/deliver.js');
  const log = stderrLog('run');
  const setup = await deliverySetup(opts, log, process.env, onCacheRead);
  const abort = new AbortController();
  const following = renderTemplates({ client: setup.reader, templates: setup.templates, once: false, signal: abort.signal, log })
    .catch((err: unknown) => log(`templates not rendered: ${err instanceof SikkerKeyError ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`));
  return { stop: async () => { abort.abort(); await following; await setup.close(); } };
}

program.command('exec')
  .description('start a command with secrets in its environment; restart or signal it on each new version')
  .usage('[options] -- COMMAND [ARGS...]')
  .argument('<command...>', 'the command and its arguments (after --)')
  .option('--env <VAR=project/secret#field>', 'a variable for the command (repeatable); without #field: the value, or a structured secret\'s fields as JSON', collect, [])
  .option('--env-file-secret <project/secret>', 'every field of a structured secret as a variable named after the field (upper-cased, other characters _) (repeatable)', collect, [])
  .option('--lease <NAME=project/role>', 'a leased database login: NAME_USERNAME, NAME_PASSWORD, NAME_HOST, NAME_PORT (NAME_DATABASE) for the command; renewed in the background, taken anew when renewal is refused, revoked at exit (repeatable)', collect, [])
  .option('--lease-ttl <duration>', 'the ttl asked for each --lease and its renewals (default: the role\'s ttl)')
  .option('--on-change <action>', 'on a new version: restart (SIGTERM, grace, SIGKILL, start again), signal:NAME (e.g. signal:HUP), or none', 'restart')
  .option('--grace <duration>', 'how long a restart waits after SIGTERM before SIGKILL', '10s')
  .option('--once', 'read once and start the command without following (an init container, a one-off job)')
  .option('--config <file>', 'agent config: vaultUrl, keyFile, caFile, pinSha256, templates rendered before the command starts, cacheDir and cacheMaxAge (offline cache)')
  .option('--url <url>', 'vault URL (default: the config\'s vaultUrl, or SIKKERKEY_URL)')
  .option('--key-file <file>', 'machine key (default: the config\'s keyFile, or SIKKERKEY_AGENT_KEY_FILE)')
  .addHelpText('after', `
Values are placed in the command's environment only: never on a command line, in this program's
logs or its own environment. This program exits with the command's status (128+N for signal N).

Example:
  sikkerkey-agent exec --env DB_USER=shop/db#username --env DB_PASSWORD=shop/db#password -- ./server --port 8080
  sikkerkey-agent exec --lease DB=shop/app-ro -- ./server     # DB_USERNAME, DB_PASSWORD, DB_HOST, DB_PORT`)
  .passThroughOptions()
  .action(async (command: string[], opts: { env: string[]; envFileSecret: string[]; lease: string[]; leaseTtl?: string; onChange: string; grace: string; once?: boolean; config?: string; url?: string; keyFile?: string }) => {
    const { parseSecretRef } = await import('./delivery/secret-refs.js');
    const { parseOnChange, runExec } = await import('./delivery/exec.js');
    const { deliverySetup, stderrLog } = await import('./delivery/deliver.js');
    const { TemplateSet } = await import('./delivery/templates.js');
    const { parseDuration } = await import('../protocol/duration.js');
    const env = opts.env.map((spec) => {
      const eq = spec.indexOf('=');
      const name = spec.slice(0, eq);
      if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SikkerKeyError('SK_ERR_USAGE', `--env takes VAR=project/secret#field with VAR a variable name, not ${JSON.stringify(spec)}`);
      return { name, ref: parseSecretRef(spec.slice(eq + 1), `--env ${name}`) };
    });
    const envFileSecrets = opts.envFileSecret.map((spec) => {
      const ref = parseSecretRef(spec, '--env-file-secret');
      if (ref.field !== undefined) throw new SikkerKeyError('SK_ERR_USAGE', `--env-file-secret takes project/secret (all its fields), not a #field: use --env VAR=${spec}`);
      return ref;
    });
    const { ExecLeases } = await import('./leases/exec-leases.js');
    const { parseLeaseSpec } = await import('./leases/lease-client.js');
    const leaseSpecs = opts.lease.map(parseLeaseSpec);
    if (opts.leaseTtl !== undefined) parseDuration(opts.leaseTtl, '--lease-ttl', 'SK_ERR_USAGE');
    const onChange = parseOnChange(opts.onChange);
    const graceMs = parseDuration(opts.grace, '--grace', 'SK_ERR_USAGE');
    const [cmd, ...args] = command;
    if (cmd === undefined) throw new SikkerKeyError('SK_ERR_USAGE', 'no command: sikkerkey-agent exec [options] -- COMMAND [ARGS...]');
    const log = stderrLog('exec');
    const { client, close, reader, templates } = await deliverySetup(opts, log);
    try {
      if (env.length === 0 && envFileSecrets.length === 0 && templates.length === 0 && leaseSpecs.length === 0) throw new SikkerKeyError('SK_ERR_USAGE', 'nothing to deliver: give --env, --env-file-secret, --lease, or a --config with templates');
      process.exitCode = await runExec({
        client: reader, env, envFileSecrets, onChange, once: Boolean(opts.once), graceMs, command: cmd, args, baseEnv: process.env, log,
        ...(templates.length > 0 ? { files: new TemplateSet(templates, log) } : {}),
        ...(leaseSpecs.length > 0 ? { leases: new ExecLeases({ client, specs: leaseSpecs, log, keepReplaced: onChange.kind === 'none', ...(opts.leaseTtl === undefined ? {} : { ttl: opts.leaseTtl }) }) } : {}),
      });
    } finally {
      await close();
    }
  });

program.command('render')
  .description('render the config\'s templates; without --once keep them current (a sidecar), re-rendering on each new version')
  .requiredOption('--config <file>', 'agent config with templates (and vaultUrl, keyFile, caFile, pinSha256)')
  .option('--once', 'render once and exit (an init container: the application starts after its files exist)')
  .option('--url <url>', 'vault URL (default: the config\'s vaultUrl)')
  .option('--key-file <file>', 'machine key (default: the config\'s keyFile)')
  .option('--json', 'with --once: the rendered files as one JSON document (paths and modes, never values)')
  .action(async (opts: { config: string; once?: boolean; url?: string; keyFile?: string; json?: boolean }) => {
    const { deliverySetup, renderTemplates, stderrLog } = await import('./delivery/deliver.js');
    const log = stderrLog('render');
    const { close, reader, templates } = await deliverySetup(opts, log);
    if (templates.length === 0) {
      await close();
      throw new SikkerKeyError('SK_ERR_USAGE', `${opts.config} has no templates to render`);
    }
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    try {
      await renderTemplates({ client: reader, templates, once: Boolean(opts.once), signal: abort.signal, log });
      if (opts.once) {
        const files = templates.map((t) => ({ destination: t.destination, format: t.format, mode: t.mode.toString(8).padStart(4, '0') }));
        printResult(Boolean(opts.json), { rendered: files }, () => files.map((f) => `rendered ${f.destination} (${f.format}, mode ${f.mode})`).join('\n'));
      }
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      await close();
    }
  });

// Not a top-level await: the single executable is a CommonJS bundle (Node 20's SEA runs no ESM),
// and runCli never rejects, so nothing is lost.
void runCli(program);

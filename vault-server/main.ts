#!/usr/bin/env node
// sikkerkey-vault: the vault server's command line (init | migrate | serve | backup | check-backup | restore | rekey | check-config | dev).
import { Command } from 'commander';
import { runCli, collect } from '../protocol/cli.js';
import { backupCommand, checkBackupCommand, rekeyCommand, restoreCommand } from './ops/ops-commands.js';
import { initCommand, serveCommand, checkConfigCommand, devCommand, migrateCommand } from './server-commands.js';

const program = new Command('sikkerkey-vault')
  .description('SikkerKey vault server')
  .version(process.env.npm_package_version ?? '0.1.0');

program.command('init')
  .description('create the store and the first operator (owner); prints the new root key once')
  .option('--data-dir <dir>', 'embedded SQLite store in this directory')
  .option('--database-url <url>', 'PostgreSQL store (scale-out)')
  .requiredOption('--operator-public-key <key>', 'the first operator\'s Ed25519 public key (base64 raw or PEM)')
  .option('--operator-name <name>', 'the first operator\'s name', 'owner')
  .option('--json', 'one JSON document on stdout')
  .action(initCommand);

program.command('migrate')
  .description('apply pending store migrations: once per upgrade, before starting the new version (PostgreSQL replicas never migrate on their own; docs/ha.md)')
  .option('--data-dir <dir>', 'embedded SQLite store in this directory')
  .option('--database-url <url>', 'PostgreSQL store (scale-out)')
  .option('--status', 'only list the pending migrations (exit 3 when there are some)')
  .option('--json', 'one JSON document on stdout')
  .action(migrateCommand);

program.command('serve')
  .description('serve the vault (settings: --config FILE, then SIKKERKEY_VAULT_* variables, then these flags)')
  .option('--config <file>', 'JSON or YAML configuration file (see docs/operations.md)')
  .option('--data-dir <dir>', 'embedded SQLite store in this directory')
  .option('--database-url <url>', 'PostgreSQL store (scale-out)')
  .option('--listen <addr>', 'host:port or unix:PATH to listen on (default 127.0.0.1:8200)')
  .option('--public-url <url>', 'a URL clients use to reach this vault (repeatable); fixes @authority', collect)
  .option('--tls-cert <file>', 'serve TLS with this certificate chain (PEM); reloaded on SIGHUP')
  .option('--tls-key <file>', 'the certificate\'s private key (PEM)')
  .option('--tls-client-ca <file>', 'require client certificates issued by this CA (PEM)')
  .option('--insecure-listen', 'allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)')
  .option('--shutdown-timeout <duration>', 'how long in-flight requests may finish after SIGTERM (default 10s)')
  .option('--max-connections <n>', 'concurrent connections, long-polls included (default 10000; at most `ulimit -n` − 256)')
  .option('--database-pool-size <n>', 'PostgreSQL connections per vault process (default 10)')
  .option('--statement-timeout <duration>', 'PostgreSQL statement_timeout of every connection (default 5s)')
  .option('--workers <n>', 'processes serving the one listener and store (default: the CPUs available; 1: no worker processes)')
  .option('--root-key-file <file>', 'file holding the root key (base64); give it twice (old and new) while rotating the key; re-read on SIGHUP', collect)
  .option('--root-key-stdin', 'read the root key from standard input')
  .option('--log-level <level>', 'log level (default info)')
  .option('--rotation-lease <duration>', 'how long an agent\'s claim holds without a heartbeat (default 30s)')
  .option('--allow-cidr <cidr>', 'only these source ranges may reach the vault (repeatable)', collect)
  .option('--trust-proxy <cidr>', 'believe X-Forwarded-For only from these proxies (repeatable)', collect)
  .option('--webhook-allow-cidr <cidr>', 'webhook deliveries may go to this private range (repeatable; plain http only there)', collect)
  .option('--audit-retention <duration>', 'prune audit events older than this (at least 1d, e.g. 400d), keeping a signed checkpoint of the pruned range (default: keep forever)')
  .option('--audit-sink <sink>', 'stream every audit event as it commits: stdout, file:PATH (JSON lines; at least once), syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT (RFC 5424)')
  .option('--audit-sink-ca <file>', 'with a syslog+tls:// audit sink: trust only this CA (PEM) for the receiver\'s certificate (default: the system CAs)')
  .option('--trash-days <n>', 'days a deleted project or secret stays in the trash before the sweeper purges it (default 30)')
  .option('--verify-concurrency <n>', 'signature verifications in flight at once before 503 SK_ERR_VERIFY_BUSY (default 2 × cores × 32)')
  .option('--no-canary-disable-machine', 'a canary trip locks projects but leaves the reading machine enabled')
  .option('--geoip-db <file>', 'MaxMind-format country database for machines\' country allowlists (without it they deny)')
  .option('--accept-broken-chain', 'when a vault from before the audit keys is first served: key its audit log even though the existing chain is broken (recorded in the audit.keys.created event)')
  .action(serveCommand);

program.command('backup')
  .description('an online, consistent copy of the SQLite store (while a vault serves from it); it holds wrapped keys only: useless without the root key')
  .option('--data-dir <dir>', 'the SQLite store to copy')
  .requiredOption('--out <file>', 'the backup file to write (never overwritten; created 0600)')
  .option('--json', 'one JSON document on stdout')
  .action(backupCommand);

program.command('check-backup [file]')
  .description('check a backup file (or a PostgreSQL database restored from pg_dump): intact, a vault in it, and with the root key: it opens and the audit chain verifies (exit 3 when not)')
  .option('--database-url <url>', 'a PostgreSQL database restored from a dump, instead of a FILE')
  .option('--root-key-file <file>', 'also check the root key opens it and the audit chain verifies')
  .option('--root-key-stdin', 'read the root key from standard input')
  .option('--json', 'one JSON document on stdout')
  .action(checkBackupCommand);

program.command('restore')
  .description('restore a backup into a new (or empty) directory: checked with the root key, audit chain verified, vault.restored recorded')
  .requiredOption('--from <file>', 'the backup file')
  .requiredOption('--data-dir <dir>', 'the new store directory (refused when not empty)')
  .option('--root-key-file <file>', 'file holding the root key (base64)')
  .option('--root-key-stdin', 'read the root key from standard input')
  .option('--json', 'one JSON document on stdout')
  .action(restoreCommand);

program.command('rekey')
  .description('rotate the root key: re-seal every project key, the audit keys and the webhook secrets under a new root key in one transaction (a vault serving with --root-key-file OLD --root-key-file NEW keeps serving; then SIGHUP it with only NEW)')
  .option('--data-dir <dir>', 'embedded SQLite store in this directory')
  .option('--database-url <url>', 'PostgreSQL store')
  .requiredOption('--root-key-file <file>', 'the current root key')
  .requiredOption('--new-root-key-file <file>', 'the new root key (base64, 32 bytes)')
  .option('--generate', 'write a freshly generated key to --new-root-key-file first (0600; refused if the file exists)')
  .option('--json', 'one JSON document on stdout')
  .action(rekeyCommand);

program.command('check-config <file>')
  .description('validate a configuration file (with SIKKERKEY_VAULT_* applied) as serve would; prints the effective settings')
  .option('--json', 'one JSON document on stdout')
  .action(checkConfigCommand);

program.command('dev')
  .description('an ephemeral vault for trying things: temp SQLite, generated root and operator keys')
  .option('--listen <addr>', 'host:port to listen on', '127.0.0.1:8200')
  .option('--log-level <level>', 'log level', 'warn')
  .action(devCommand);

await runCli(program);

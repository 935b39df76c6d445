/**
 * The Redis provider (its own RESP2 client, resp-client.ts), for ACL users (Redis ≥ 6). Every command goes with its
 * arguments as arguments, never as a command string. Passwords are handed to Redis as their
 * SHA-256 (`#<hash>` adds, `!<hash>` removes): the hash is what Redis stores anyway, and Redis
 * quotes a failing ACL rule in its error message, so a plaintext rule could end up in a log.
 *
 * A Redis ACL user holds a set of passwords (`slots: 'set'` in protocol/engines.ts):
 * - `setPassword`: `ACL SETUSER <name> resetpass #<hash>` — exactly this password afterwards;
 *   the user's on/off flag and permissions stay as they are.
 * - `addPassword`: `ACL SETUSER <name> #<hash>` adds it beside the passwords the user has.
 * - `removePassword`: `ACL SETUSER <name> !<hash>` removes exactly it (a no-op when absent).
 * - The `default` user is an ACL user like any other — that is what `requirepass` is since
 *   Redis 6 — except on a server configured with `requirepass` and no aclfile: there the provider
 *   uses `CONFIG SET requirepass`, so that CONFIG GET and CONFIG REWRITE keep showing the live
 *   password (ACL SETUSER default would leave the old one in the configuration, and a rewrite
 *   plus restart would bring it back). `dual` is refused for it there.
 * - With an aclfile, every change is followed by `ACL SAVE`. Without one, changes live in memory
 *   only; a restart restores users from redis.conf (CONFIG REWRITE is the operator's call).
 * - A user that does not exist is reported, not created (ACL SETUSER would create it).
 * - Leased logins (createLogin, dropLogin, listLogins) live in redis-leases.ts.
 *
 * @example
 *   const provider = redisProvider();
 *   await provider.initialize({ admin, target });
 *   await provider.addPassword?.({ username: 'app', password: pending });
 *   await provider.removePassword?.({ username: 'app', password: live });
 */
import { createHash } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { SikkerKeyError } from '../../protocol/errors.js';
import type {
  CredentialProvider,
  InitializeRequest,
  InitializeResponse,
  PreflightRequest,
  PreflightResponse,
  Credential,
  VerifyResponse,
} from '../provider.js';
import { checkCredential, describeEndpoint, readCaFile, readEndpoint, tlsOptions, type Endpoint } from '../provider-config.js';
import { classifyNetworkError, quoteName } from '../provider-errors.js';
import { redisError, type RedisErrorContext } from './redis-errors.js';
import { redisLeases } from './redis-leases.js';
import { RespClient } from './resp-client.js';

export interface RedisProviderOptions {
  /** Per connection attempt (TCP and TLS handshake); default 10 s. */
  connectTimeoutMs?: number;
  /** Per command; default 30 s. */
  commandTimeoutMs?: number;
}

/** What verification needs: read before the admin connects, kept even when the admin login fails. */
interface TargetSide {
  target: Endpoint;
  targetCa: string | undefined;
}

/** The admin connection and what the server told it. */
interface Session extends TargetSide {
  admin: RespClient;
  adminEndpoint: Endpoint;
  versionText: string;
  /** Whether the server persists users in an aclfile; undefined when CONFIG GET is not allowed. */
  aclFile: boolean | undefined;
  /** `requirepass` set and no aclfile: the default user is changed through CONFIG SET. */
  requirepassMode: boolean;
}

interface AclUser {
  flags: string[];
  passwords: string[];
  commands: string;
}

const NO_ACL_FILE = /not configured to use an ACL file/i;

export const redisProvider = (options: RedisProviderOptions = {}): CredentialProvider => {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  const secrets = new Set<string>();
  let targetSide: TargetSide | undefined;
  let session: Session | undefined;

  // values come from JSON: only non-empty strings are secrets to look for
  const remember = (...values: unknown[]): void => {
    for (const v of values) if (typeof v === 'string' && v !== '') secrets.add(v);
  };

  const requireSession = (): Session => {
    if (session === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the Redis provider was used before initialize() connected the admin');
    return session;
  };
  const requireTarget = (): TargetSide => {
    if (targetSide === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the Redis provider verified a credential before initialize() read the target secret');
    return targetSide;
  };

  const context = (s: Session, step: RedisErrorContext['step'], username: string): RedisErrorContext => ({
    step,
    endpoint: describeEndpoint(step === 'login' ? s.target : s.adminEndpoint),
    username,
    admin: s.adminEndpoint.username,
    secrets,
  });

  /** A connection, authenticated with `auth` when given (an admin `default` user may have nopass). */
  const open = async (endpoint: Endpoint, ca: string | undefined, auth: { username: string; password: string } | undefined, ctx: RedisErrorContext): Promise<RespClient> => {
    // RESP2 and nothing sent before AUTH (no HELLO, no CLIENT SETINFO: the latter would show up
    // as a denied command in a restricted user's ACL LOG); one attempt, errors at once: the agent
    // decides about retries
    let client: RespClient;
    try {
      const tls = tlsOptions(endpoint, ca);
      client = await RespClient.connect({
        host: endpoint.host, port: endpoint.port, connectTimeoutMs, commandTimeoutMs, ...(tls === undefined ? {} : { tls }),
      });
    } catch (cause) {
      if (endpoint.tls !== 'disable' && classifyNetworkError(cause)?.code === 'SK_ERR_PROVIDER_CONNECT' && (await tcpReachable(endpoint, connectTimeoutMs))) {
        // a plain-text Redis waits for a newline that a TLS ClientHello may never contain
        throw new SikkerKeyError(
          'SK_ERR_PROVIDER_TLS',
          `TLS to Redis at ${describeEndpoint(endpoint)} failed: the port accepts TCP but no TLS handshake completed; ` +
            `it probably does not offer TLS (set "tls" to "disable", or point "port" at the server's tls-port)`,
        );
      }
      throw redisError(cause, ctx);
    }
    if (auth !== undefined) {
      try {
        await client.call('AUTH', auth.username, auth.password);
      } catch (err) {
        client.disconnect();
        throw redisError(err, ctx);
      }
    }
    return client;
  };

  const call = async (s: Session, step: RedisErrorContext['step'], username: string, ...args: string[]): Promise<unknown> => {
    try {
      const [command, ...rest] = args;
      return await s.admin.call(command ?? 'PING', ...rest);
    } catch (err) {
      throw redisError(err, context(s, step, username));
    }
  };

  const getUser = async (s: Session, step: RedisErrorContext['step'], username: string): Promise<AclUser | undefined> =>
    parseAclUser(await call(s, step, username, 'ACL', 'GETUSER', username));

  /** Writes the users to the aclfile when the server has one; a no-op otherwise. */
  const persist = async (s: Session, username: string): Promise<void> => {
    if (s.aclFile === false) return;
    try {
      await s.admin.call('ACL', 'SAVE');
    } catch (err) {
      if (s.aclFile === undefined && err instanceof Error && NO_ACL_FILE.test(err.message)) return;
      throw redisError(err, context(s, 'update', username));
    }
  };

  const refuseDefaultDual = (): SikkerKeyError =>
    new SikkerKeyError(
      'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED',
      'the Redis "default" user of a server configured with requirepass has one password: use strategy "single", or an aclfile and an ACL user for "dual"',
    );

  /** The user, checked to exist (ACL SETUSER would create a typo); true when it is requirepass's default. */
  const prepare = async (s: Session, step: 'update' | 'retire', req: Credential): Promise<{ viaRequirepass: boolean; user: AclUser }> => {
    remember(req.password);
    checkCredential(req.username, req.password, 'Redis');
    checkUsername(req.username);
    const user = await getUser(s, step, req.username);
    if (user === undefined) throw userNotFound(s, req.username);
    return { viaRequirepass: req.username === 'default' && s.requirepassMode, user };
  };

  const close = async (): Promise<void> => {
    const s = session;
    session = undefined;
    targetSide = undefined;
    s?.admin.disconnect();
  };

  return {
    engine: 'redis',
    operations: ['setPassword', 'addPassword', 'removePassword'],

    async initialize(req: InitializeRequest): Promise<InitializeResponse> {
      remember(req.admin['password'], req.target['password']);
      await close();
      // the target side first, and kept whatever happens to the admin: the agent proves the live
      // credential with it when the admin login fails
      const target = readEndpoint(req.target, { secret: 'target', engine: 'Redis', defaultPort: 6379, defaultUsername: 'default', passwordRequired: false });
      const targetCa = await readCaFile(target, { secret: 'target', engine: 'Redis' });
      targetSide = { target, targetCa };

      const admin = readEndpoint(req.admin, { secret: 'admin', engine: 'Redis', defaultPort: 6379, defaultUsername: 'default', passwordRequired: false });
      const adminCa = await readCaFile(admin, { secret: 'admin', engine: 'Redis' });
      const ctx: RedisErrorContext = { step: 'admin-login', endpoint: describeEndpoint(admin), username: admin.username, admin: admin.username, secrets };
      const auth = admin.password === '' ? undefined : { username: admin.username, password: admin.password };
      const client = await open(admin, adminCa, auth, ctx);
      try {
        const versionText = await serverVersion(client);
        const aclFileSetting = await configGet(client, 'aclfile');
        const requirepass = await configGet(client, 'requirepass');
        remember(requirepass); // the default user's live password: never to appear anywhere
        const aclFile = aclFileSetting === undefined ? undefined : aclFileSetting !== '';
        session = {
          admin: client, adminEndpoint: admin, target, targetCa, versionText, aclFile,
          requirepassMode: requirepass !== undefined && requirepass !== '' && aclFile !== true,
        };
        return { serverVersion: versionText, flavour: 'redis' };
      } catch (err) {
        client.disconnect();
        throw redisError(err, { ...ctx, step: 'initialize' });
      }
    },

    async setPassword(req: Credential): Promise<void> {
      const s = requireSession();
      const { viaRequirepass } = await prepare(s, 'update', req);
      if (viaRequirepass) {
        await call(s, 'update', req.username, 'CONFIG', 'SET', 'requirepass', req.password);
        return;
      }
      await call(s, 'update', req.username, 'ACL', 'SETUSER', req.username, 'resetpass', `#${passwordHash(req.password)}`);
      await persist(s, req.username);
    },

    async addPassword(req: Credential): Promise<void> {
      const s = requireSession();
      const { viaRequirepass } = await prepare(s, 'update', req);
      if (viaRequirepass) throw refuseDefaultDual();
      // adding a password the user already has changes nothing: idempotent by nature
      await call(s, 'update', req.username, 'ACL', 'SETUSER', req.username, `#${passwordHash(req.password)}`);
      await persist(s, req.username);
    },

    async removePassword(req: Credential): Promise<void> {
      const s = requireSession();
      const { viaRequirepass, user } = await prepare(s, 'retire', req);
      if (viaRequirepass) throw refuseDefaultDual();
      const hash = passwordHash(req.password);
      // removing a password the user does not have is an error in Redis; removing twice is not
      if (!user.passwords.includes(hash)) return;
      await call(s, 'retire', req.username, 'ACL', 'SETUSER', req.username, `!${hash}`);
      await persist(s, req.username);
    },

    async verify(req: Credential): Promise<VerifyResponse> {
      remember(req.password);
      const t = requireTarget();
      checkCredential(req.username, req.password, 'Redis');
      const ctx: RedisErrorContext = {
        step: 'login', endpoint: describeEndpoint(t.target), username: req.username, admin: session?.adminEndpoint.username ?? '', secrets,
      };
      const client = await open(t.target, t.targetCa, { username: req.username, password: req.password }, ctx);
      try {
        const pong = await client.call('PING').catch((err: unknown) => {
          // AUTH succeeded, which is the proof; a user whose rules leave out PING (a leased login
          // with `+@read`, say) is still logged in
          if (err instanceof Error && err.message.startsWith('NOPERM')) return 'PONG';
          throw err;
        });
        if (pong !== 'PONG') throw new Error(`PING answered ${JSON.stringify(pong)}`);
        // without an admin session the version comes from HELLO, which every user may run
        return { serverVersion: session?.versionText ?? (await helloVersion(client)) };
      } catch (err) {
        throw redisError(err, ctx);
      } finally {
        client.disconnect();
      }
    },

    async preflight(req: PreflightRequest): Promise<PreflightResponse> {
      const s = requireSession();
      const problems: string[] = [];
      const admin = s.adminEndpoint.username;
      if (s.aclFile === undefined) {
        problems.push(
          `admin ${quoteName(admin)} may not run CONFIG GET, so the agent cannot tell whether changes must be saved to an aclfile ` +
            `(or whether the default user is set by requirepass): run ACL SETUSER ${admin} +config|get`,
        );
      }
      for (const username of req.usernames) {
        try {
          checkUsername(username);
        } catch (err) {
          problems.push((err as Error).message);
          continue;
        }
        if (username === 'default' && s.requirepassMode && req.strategy === 'dual') problems.push(refuseDefaultDual().message);
        for (const command of neededCommands(s, username)) {
          const denied = await mayRun(s, admin, command);
          if (denied !== undefined) problems.push(denied);
        }
        let user: AclUser | undefined;
        try {
          user = await getUser(s, 'preflight', username);
        } catch (err) {
          if (err instanceof SikkerKeyError && err.code === 'SK_ERR_PROVIDER_PRIVILEGE') continue; // already reported above
          throw err;
        }
        if (user === undefined) {
          problems.push(`user ${quoteName(username)} does not exist on Redis at ${describeEndpoint(s.adminEndpoint)}: create it (ACL SETUSER ${username} on …) or fix the secret's username`);
          continue;
        }
        if (user.flags.includes('off')) problems.push(`user ${quoteName(username)} is off, so no password logs in: run ACL SETUSER ${username} on`);
        if (user.flags.includes('nopass')) {
          problems.push(`user ${quoteName(username)} has nopass (any password logs in today); after rotation only the vault's password will: make sure its clients read it from the vault first`);
        }
      }
      return { ok: problems.length === 0, problems: [...new Set(problems)] };
    },

    // leased logins (redis-leases.ts)
    ...redisLeases({
      call: (username, ...args) => call(requireSession(), 'update', username, ...args),
      persist: (username) => persist(requireSession(), username),
      secrets,
    }),

    isConnected: () => session?.admin.connected ?? false,
    close,
    secretValues: () => [...secrets],
  } satisfies CredentialProvider;

  function userNotFound(s: Session, username: string): SikkerKeyError {
    return new SikkerKeyError(
      'SK_ERR_PROVIDER_USER_NOT_FOUND',
      `user ${quoteName(username)} does not exist on Redis at ${describeEndpoint(s.adminEndpoint)}: check the secret's username, or create the user (ACL SETUSER)`,
    );
  }

  /** undefined when the admin may run `command`, else the problem in words. */
  async function mayRun(s: Session, admin: string, command: string[]): Promise<string | undefined> {
    const what = command.slice(0, 2).join(' ');
    const grant = `ACL SETUSER ${admin} +${command.slice(0, 2).join('|').toLowerCase()}`;
    try {
      // ACL DRYRUN (Redis ≥ 7) asks the server's own permission check, without running anything
      const verdict = await s.admin.call('ACL', 'DRYRUN', admin, ...command);
      return verdict === 'OK' ? undefined : `admin ${quoteName(admin)} may not run ${what}: run ${grant}`;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith('NOPERM')) return `admin ${quoteName(admin)} may not run ACL DRYRUN, so its rights cannot be checked, and likely not ${what}: run ACL SETUSER ${admin} +acl`;
      if (!/unknown (sub)?command|wrong number of arguments/i.test(message)) throw redisError(err, context(s, 'preflight', admin));
    }
    // Redis 6: no DRYRUN; read the admin's rules instead
    const me = parseAclUser(await call(s, 'preflight', admin, 'ACL', 'GETUSER', admin));
    const rules = ` ${me?.commands ?? ''} `;
    const sub = command.slice(0, 2).join('|').toLowerCase();
    const allowed = /\s\+@all\s|\s\+@admin\s|\s\+@dangerous\s/.test(rules) || rules.includes(` +${command[0]?.toLowerCase()} `) || rules.includes(` +${sub} `);
    const denied = rules.includes(` -${command[0]?.toLowerCase()} `) || rules.includes(` -${sub} `);
    return allowed && !denied ? undefined : `admin ${quoteName(admin)} may not run ${what}: run ${grant}`;
  }
};

function neededCommands(s: Session, username: string): string[][] {
  if (username === 'default' && s.requirepassMode) return [['CONFIG', 'SET', 'requirepass', 'x']];
  const commands = [['ACL', 'GETUSER', username], ['ACL', 'SETUSER', username]];
  if (s.aclFile === true) commands.push(['ACL', 'SAVE']);
  return commands;
}

function checkUsername(username: string): void {
  if (username === '' || /[\s\0]/.test(username)) {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `Redis user names cannot be empty or contain spaces: ${quoteName(username)}`);
  }
}

/** What Redis stores for a password: hex SHA-256 of its bytes. */
export function passwordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

function parseAclUser(reply: unknown): AclUser | undefined {
  if (!Array.isArray(reply)) return undefined;
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return { flags: strings(map.get('flags')), passwords: strings(map.get('passwords')), commands: String(map.get('commands') ?? '') };
}

async function serverVersion(client: RespClient): Promise<string> {
  try {
    const info = String(await client.call('INFO', 'server'));
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    if (version !== undefined) return `Redis ${version}`;
  } catch {
    // INFO may be denied to a narrow admin; HELLO is for everyone
  }
  return helloVersion(client);
}

/** The version from HELLO (allowed to every user, ACL or not), or "unknown" on a server without it. */
async function helloVersion(client: RespClient): Promise<string> {
  try {
    const hello = await client.call('HELLO', '2');
    if (Array.isArray(hello)) {
      const i = hello.indexOf('version');
      if (i >= 0) return `Redis ${String(hello[i + 1])}`;
    }
  } catch {
    // an old server without HELLO: the version stays unknown
  }
  return 'Redis (version unknown)';
}

/** The setting's value, or undefined when the admin may not read it. */
async function configGet(client: RespClient, name: string): Promise<string | undefined> {
  try {
    const reply = await client.call('CONFIG', 'GET', name);
    return Array.isArray(reply) && reply.length >= 2 ? String(reply[1]) : '';
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOPERM')) return undefined;
    throw err;
  }
}


function tcpReachable(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: endpoint.host, port: endpoint.port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(Math.min(timeoutMs, 5_000), () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

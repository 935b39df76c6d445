/**
 * The one table of database engine knowledge. Everything else that needs to know what an engine
 * can do — the vault's allowed strategies, the agent's undo plans, the providers' refusals, the
 * CLI help, the crash matrix, the binary's driver check, test fixtures — reads it from here.
 * Adding an engine means a row here and a provider folder under providers/.
 *
 * A row is a *flavour*: what the preflight finds the server to be. The vault knows a policy by its
 * provider name (`engine`), which for `mysql` covers two flavours it cannot tell apart until a
 * preflight reported which one answered: MySQL 8 keeps a retained second password, MariaDB does not.
 *
 * @example
 *   strategiesOf('redis');                     // ['single', 'dual', 'alternating']
 *   refusal('mariadb', 'dual');                // "MariaDB has no retained password …"
 *   flavourSpec('mysql8').slots;               // 'primary+retained'
 */

/** The provider names a rotation policy is set with (`--provider`). */
export type Engine = 'postgres' | 'supabase' | 'mysql' | 'redis' | 'mongodb';
/** What a preflight finds the server to be. */
export type Flavour = 'postgres' | 'supabase' | 'mysql8' | 'mariadb' | 'redis' | 'mongodb';
export type Strategy = 'single' | 'dual' | 'alternating';
export const STRATEGIES: readonly Strategy[] = ['single', 'dual', 'alternating'];

/**
 * How the engine keeps passwords for one user, which decides what `dual` and its undo mean:
 * - `single`: one password; setting a new one replaces it (PostgreSQL, MariaDB, MongoDB).
 * - `set`: any number of passwords, added and removed one by one (Redis ACL `>new`, `<old`).
 * - `primary+retained`: a primary and at most one retained password (MySQL ≥ 8.0.14: `RETAIN
 *   CURRENT PASSWORD` moves the primary to the retained slot; `DISCARD OLD PASSWORD` empties it;
 *   setting the primary without RETAIN leaves the retained one unchanged).
 */
export type PasswordSlots = 'single' | 'set' | 'primary+retained';

/** The engine-level operations a provider implements; which ones depends on its slots. */
export type PasswordOperation = 'setPassword' | 'addPassword' | 'removePassword' | 'discardRetained';

export interface FlavourSpec {
  readonly flavour: Flavour;
  /** The provider that speaks to it. */
  readonly engine: Engine;
  /** For people: "MySQL 8". */
  readonly label: string;
  /**
   * The npm package of its driver (the agent loads it only when a job needs it), or `null` when
   * the provider speaks the protocol itself (Redis: providers/redis/resp-client.ts).
   */
  readonly driver: string | null;
  readonly slots: PasswordSlots;
  /** The strategies this flavour runs. */
  readonly strategies: readonly Strategy[];
  /** A strategy that needs a minimum server version, checked at preflight and again at claim. */
  readonly minVersion: Partial<Record<Strategy, string>>;
  /** Why each strategy it does not run is refused, in words that name the alternative. */
  readonly refused: Partial<Record<Strategy, string>>;
}

const ONE_SLOT_DUAL = (label: string): string =>
  `${label} keeps one password per user, so it cannot hold the new one beside the live one: use --strategy alternating (two users)`;

export const FLAVOURS: Readonly<Record<Flavour, FlavourSpec>> = {
  postgres: {
    flavour: 'postgres', engine: 'postgres', label: 'PostgreSQL', driver: 'pg', slots: 'single',
    strategies: ['single', 'alternating'], minVersion: {}, refused: { dual: ONE_SLOT_DUAL('PostgreSQL') },
  },
  supabase: {
    flavour: 'supabase', engine: 'supabase', label: 'Supabase (PostgreSQL)', driver: 'pg', slots: 'single',
    strategies: ['single', 'alternating'], minVersion: {}, refused: { dual: ONE_SLOT_DUAL('Supabase') },
  },
  mysql8: {
    flavour: 'mysql8', engine: 'mysql', label: 'MySQL 8', driver: 'mysql2', slots: 'primary+retained',
    strategies: ['single', 'dual', 'alternating'], minVersion: { dual: '8.0.14' }, refused: {},
  },
  mariadb: {
    flavour: 'mariadb', engine: 'mysql', label: 'MariaDB', driver: 'mysql2', slots: 'single',
    strategies: ['single', 'alternating'], minVersion: {},
    refused: { dual: 'MariaDB has no retained second password (RETAIN CURRENT PASSWORD is MySQL ≥ 8.0.14 only): use --strategy alternating (two users)' },
  },
  redis: {
    flavour: 'redis', engine: 'redis', label: 'Redis', driver: null, slots: 'set',
    strategies: ['single', 'dual', 'alternating'], minVersion: {}, refused: {},
  },
  mongodb: {
    flavour: 'mongodb', engine: 'mongodb', label: 'MongoDB', driver: 'mongodb', slots: 'single',
    strategies: ['single', 'alternating'], minVersion: {}, refused: { dual: ONE_SLOT_DUAL('MongoDB') },
  },
};

export const FLAVOUR_NAMES = Object.keys(FLAVOURS) as readonly Flavour[];

/** Every provider name, in table order. */
export const ENGINES: readonly Engine[] = [...new Set(FLAVOUR_NAMES.map((f) => FLAVOURS[f].engine))];

export const isEngine = (name: string): name is Engine => (ENGINES as readonly string[]).includes(name);
export const isFlavour = (name: string): name is Flavour => (FLAVOUR_NAMES as readonly string[]).includes(name);

export function flavourSpec(flavour: Flavour): FlavourSpec {
  return FLAVOURS[flavour];
}

/**
 * The fields of an admin secret an agent connects with (providers/provider-config.ts reads them):
 * the endpoint every engine shares, then each engine's own. A grant on the admin secret limited to
 * fields must cover every one of these the secret holds, or the vault refuses the policy and the
 * claim (SK_ERR_NO_GRANT) rather than hand the agent half a connection.
 */
export const CONNECTION_FIELDS: readonly string[] = ['host', 'port', 'username', 'password', 'database', 'tls', 'caFile'];
const ENGINE_CONNECTION_FIELDS: Readonly<Record<Engine, readonly string[]>> = {
  postgres: [], supabase: ['projectRef', 'poolerHost', 'poolerPort'], mysql: ['accountHost'], redis: [], mongodb: ['authSource'],
};
export function connectionFieldsOf(engine: Engine): readonly string[] {
  return [...CONNECTION_FIELDS, ...(ENGINE_CONNECTION_FIELDS[engine] ?? [])];
}

/** The flavours a provider may find. */
export function flavoursOf(engine: Engine): FlavourSpec[] {
  return FLAVOUR_NAMES.map((f) => FLAVOURS[f]).filter((s) => s.engine === engine);
}

/** The strategies some flavour of this engine runs (what the vault accepts before a preflight). */
export function strategiesOf(engine: Engine): Strategy[] {
  return STRATEGIES.filter((s) => flavoursOf(engine).some((f) => f.strategies.includes(s)));
}

/** The npm packages the agent needs to speak to every engine (the binary build checks them). */
export const DRIVERS: readonly string[] = [...new Set(FLAVOUR_NAMES.flatMap((f) => FLAVOURS[f].driver ?? []))];

/** Every (flavour, strategy) pair the table allows: the decision table and crash matrix walk these. */
export function allowedPairs(): Array<{ flavour: Flavour; engine: Engine; strategy: Strategy }> {
  return FLAVOUR_NAMES.flatMap((f) => FLAVOURS[f].strategies.map((strategy) => ({ flavour: f, engine: FLAVOURS[f].engine, strategy })));
}

/**
 * Why `strategy` cannot run: on a known flavour (its own refusal or a version below the minimum),
 * or — before any preflight — when no flavour of the engine runs it. `undefined` when it can.
 */
export function refusal(target: { engine: Engine; flavour?: Flavour | null; version?: string | null }, strategy: Strategy): string | undefined {
  const flavour = target.flavour ?? null;
  if (flavour === null) {
    if (strategiesOf(target.engine).includes(strategy)) return undefined;
    const reasons = flavoursOf(target.engine).map((f) => f.refused[strategy]).filter((r): r is string => r !== undefined);
    return reasons[0] ?? `strategy ${strategy} is not supported for ${target.engine}`;
  }
  const spec = FLAVOURS[flavour];
  if (!spec.strategies.includes(strategy)) return spec.refused[strategy] ?? `${spec.label} does not run strategy ${strategy}`;
  const min = spec.minVersion[strategy];
  if (min !== undefined && target.version != null && compareVersions(target.version, min) < 0) {
    return `strategy ${strategy} needs ${spec.label} ${min} or later; the server is ${target.version}: upgrade it, or use --strategy alternating (two users)`;
  }
  return undefined;
}

/** One line per engine for help texts: "mysql (MySQL 8: single|dual|alternating; MariaDB: single|alternating)". */
export function describeEngines(): string {
  return ENGINES.map((e) => {
    const fl = flavoursOf(e);
    const parts = fl.map((f) => (fl.length > 1 ? `${f.label}: ` : '') + f.strategies.join('|'));
    return `${e} (${parts.join('; ')})`;
  }).join(', ');
}

/**
 * The operations a flavour's provider must implement: every flavour sets a password; the others
 * follow from its slots. The providers declare the same list, and a test holds them to it.
 */
export function operationsOf(flavour: Flavour): PasswordOperation[] {
  switch (FLAVOURS[flavour].slots) {
    case 'single':
      return ['setPassword'];
    case 'set':
      return ['setPassword', 'addPassword', 'removePassword'];
    case 'primary+retained':
      return ['setPassword', 'addPassword', 'discardRetained'];
  }
}

/** -1, 0 or 1 comparing dotted versions ("8.0.14"); anything after the numbers is ignored. */
export function compareVersions(a: string, b: string): number {
  const nums = (v: string): number[] => (/^\D*(\d+(?:\.\d+)*)/.exec(v)?.[1] ?? '0').split('.').map(Number);
  const x = nums(a);
  const y = nums(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * The table as Markdown, for docs/engines.md (a test keeps the document equal to this): one row
 * per flavour with its provider, driver, how it keeps passwords, its strategies, its version
 * conditions, the operations its provider implements, and what is refused.
 */
export function engineTableMarkdown(): string {
  const slotWords: Record<PasswordSlots, string> = {
    single: 'one password per user',
    set: 'a set of passwords per user',
    'primary+retained': 'a primary and one retained password',
  };
  const rows = FLAVOUR_NAMES.map((f) => {
    const s = FLAVOURS[f];
    const min = Object.entries(s.minVersion).map(([k, v]) => `\`${k}\` needs ≥ ${v}`).join('; ') || '—';
    const refused = Object.entries(s.refused).map(([k, v]) => `\`${k}\`: ${v}`).join('; ') || '—';
    return `| \`${f}\` | \`${s.engine}\` | ${s.driver === null ? 'built in (RESP2)' : `\`${s.driver}\``} | ${slotWords[s.slots]} | ${s.strategies.map((x) => `\`${x}\``).join(', ')} | ${min} | ${operationsOf(f).map((o) => `\`${o}\``).join(', ')} | ${refused} |`;
  });
  return [
    '| flavour | `--provider` | driver | passwords | strategies | version | operations | refused |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * Redis ACL rules a lease role's `--acl` may not hold: they set a password (`>`, `<`, `#`, `!`,
 * `nopass`, `resetpass`) or the user's state (`on`, `off`, `reset`, `resetkeys`, `resetchannels`),
 * which the agent sets itself. The vault refuses them when the role is saved, the agent again
 * before it runs `ACL SETUSER` (one list, so a role the vault accepts is never refused later).
 */
export function redisLeaseAclRuleRefused(rule: string): boolean {
  return /^[><#!]/.test(rule) || REDIS_STATE_RULES.has(rule.toLowerCase());
}
const REDIS_STATE_RULES: ReadonlySet<string> = new Set(['nopass', 'resetpass', 'on', 'off', 'reset', 'resetkeys', 'resetchannels']);

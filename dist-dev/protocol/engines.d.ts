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
export declare const STRATEGIES: readonly Strategy[];
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
    /** The npm package of its driver (the agent loads it only when a job needs it). */
    readonly driver: string;
    readonly slots: PasswordSlots;
    /** The strategies this flavour runs. */
    readonly strategies: readonly Strategy[];
    /** A strategy that needs a minimum server version, checked at preflight and again at claim. */
    readonly minVersion: Partial<Record<Strategy, string>>;
    /** Why each strategy it does not run is refused, in words that name the alternative. */
    readonly refused: Partial<Record<Strategy, string>>;
}
export declare const FLAVOURS: Readonly<Record<Flavour, FlavourSpec>>;
export declare const FLAVOUR_NAMES: readonly Flavour[];
/** Every provider name, in table order. */
export declare const ENGINES: readonly Engine[];
export declare const isEngine: (name: string) => name is Engine;
export declare const isFlavour: (name: string) => name is Flavour;
export declare function flavourSpec(flavour: Flavour): FlavourSpec;
/**
 * The fields of an admin secret an agent connects with (providers/provider-config.ts reads them):
 * the endpoint every engine shares, then each engine's own. A grant on the admin secret limited to
 * fields must cover every one of these the secret holds, or the vault refuses the policy and the
 * claim (SK_ERR_NO_GRANT) rather than hand the agent half a connection.
 */
export declare const CONNECTION_FIELDS: readonly string[];
export declare function connectionFieldsOf(engine: Engine): readonly string[];
/** The flavours a provider may find. */
export declare function flavoursOf(engine: Engine): FlavourSpec[];
/** The strategies some flavour of this engine runs (what the vault accepts before a preflight). */
export declare function strategiesOf(engine: Engine): Strategy[];
/** The npm packages the agent needs to speak to every engine (the binary build checks them). */
export declare const DRIVERS: readonly string[];
/** Every (flavour, strategy) pair the table allows: the decision table and crash matrix walk these. */
export declare function allowedPairs(): Array<{
    flavour: Flavour;
    engine: Engine;
    strategy: Strategy;
}>;
/**
 * Why `strategy` cannot run: on a known flavour (its own refusal or a version below the minimum),
 * or — before any preflight — when no flavour of the engine runs it. `undefined` when it can.
 */
export declare function refusal(target: {
    engine: Engine;
    flavour?: Flavour | null;
    version?: string | null;
}, strategy: Strategy): string | undefined;
/** One line per engine for help texts: "mysql (MySQL 8: single|dual|alternating; MariaDB: single|alternating)". */
export declare function describeEngines(): string;
/**
 * The operations a flavour's provider must implement: every flavour sets a password; the others
 * follow from its slots. The providers declare the same list, and a test holds them to it.
 */
export declare function operationsOf(flavour: Flavour): PasswordOperation[];
/** -1, 0 or 1 comparing dotted versions ("8.0.14"); anything after the numbers is ignored. */
export declare function compareVersions(a: string, b: string): number;
/**
 * The table as Markdown, for docs/engines.md (a test keeps the document equal to this): one row
 * per flavour with its provider, driver, how it keeps passwords, its strategies, its version
 * conditions, the operations its provider implements, and what is refused.
 */
export declare function engineTableMarkdown(): string;

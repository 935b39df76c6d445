import { type Flavour, type Strategy } from '../../protocol/engines.js';
export type FixtureEngine = 'postgres' | 'mysql' | 'redis' | 'mongodb';
/**
 * The engine table's row each fixture runs on this machine (MySQL: the MariaDB at MYSQL_URL;
 * MongoDB: the wire test server). Supabase and MySQL 8 have no server here: their rows are proven
 * by the decision table's fakes (test/agent/decisions.test.ts) and, for MySQL 8, MYSQL8_URL.
 */
export declare const FIXTURE_FLAVOURS: Readonly<Record<FixtureEngine, Flavour>>;
/** Every (fixture engine, strategy) the engine table allows for the flavour the fixture runs. */
export declare function fixtureCombos(): Array<{
    engine: FixtureEngine;
    strategy: Strategy;
}>;
export interface EngineFixture {
    engine: FixtureEngine;
    admin: Record<string, string>;
    /** The rotated secret's fields for one user. */
    target(username: string, password: string): Record<string, string>;
    /** Creates (or recreates) login users; under alternating, both share one owner where the engine has one. */
    createUsers(users: Array<{
        username: string;
        password: string;
    }>): Promise<void>;
    /** Does this credential log in? (false: refused; throws on anything but a refusal) */
    login(username: string, password: string): Promise<boolean>;
    cleanup(): Promise<void>;
}
export declare function engineFixture(engine: FixtureEngine): Promise<EngineFixture>;
/**
 * Logs in with a database secret's fields, the way an application would: true when the server
 * accepted the credential, false when it refused it; anything else throws.
 */
export declare function loginWithFields(engine: FixtureEngine, f: Record<string, string>): Promise<boolean>;

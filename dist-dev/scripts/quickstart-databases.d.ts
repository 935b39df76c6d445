export type DemoEngine = 'redis' | 'mysql' | 'postgres';
/** The secrets the vault will hold: the rotated user and the admin that rotates it. */
export interface DemoUsers {
    username: string;
    target: Record<string, string>;
    admin: Record<string, string>;
    /** The initial password of the rotated user (the vault's version 1). */
    initialPassword: string;
    /** Who was created, in words, e.g. `ACL users sk_quickstart_1a2b (rotated) and … (admin)`. */
    created: string;
}
export interface DemoDatabase {
    engine: DemoEngine;
    /** e.g. `Redis 7.0.15 at 127.0.0.1:6379`. */
    description: string;
    /** What the server answers when a wrong password is tried, for the proof line. */
    refusal: string;
    setup(): Promise<DemoUsers>;
    /** true: `password` logs in as the throwaway user; false: refused as a wrong password. */
    login(password: string): Promise<boolean>;
    /** Removes the throwaway users; safe to call twice, and before setup. */
    cleanup(): Promise<void>;
}
/** A database that answers but cannot be used for the demo; the message says what to change. */
export declare class DemoDatabaseError extends Error {
}
/** Why a local database was not used, for the "no database found" line. */
export interface NoDatabase {
    tried: string[];
}
/** `--postgres-url` wins; otherwise Redis, then MariaDB/MySQL, whichever answers first in that order. */
export declare function findDemoDatabase(opts: {
    postgresUrl?: string;
    redisUrl?: string;
    mysqlUrl?: string;
}): Promise<DemoDatabase | NoDatabase>;

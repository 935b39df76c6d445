import type { RouteOptions } from 'fastify';
import type { IdentityKey } from '../../protocol/keys.js';
import type { Store } from '../../vault-server/store/open-store.js';
import type { TestVault } from '../../test/support/vault-app.js';
import type { AppOptions } from '../../vault-server/app.js';
import type { Answer } from './tally.js';
/** A request exactly as it goes on the wire (headers may repeat: an array). */
export interface RawRequest {
    method: string;
    target: string;
    headers: Record<string, string | string[]>;
    payload?: Buffer | undefined;
}
/** A seeded PRNG (mulberry32): the same seed draws the same values (concurrent requests may take them in another order). */
export interface Rand {
    (): number;
    int(min: number, max: number): number;
    pick<T>(items: readonly T[]): T;
    /** A 31-bit seed for a fast-check generator. */
    seed(): number;
}
export declare function createRand(seed: number): Rand;
/** The names the run creates, so generators can aim at things that exist. */
export declare const FIXTURE: Readonly<{
    project: "shop";
    otherProject: "other";
    secrets: readonly string[];
    /** Machines the route fuzz may name (and disable, approve …); never the signing machine. */
    victimMachines: readonly string[];
    signingMachine: "adv-agent";
}>;
export interface Harness {
    v: TestVault;
    store: Store;
    operator: IdentityKey;
    machine: IdentityKey;
    rand: Rand;
    /** Every registered route, as fastify handed it to onRoute. */
    routes: RouteOptions[];
    /** Requests that reached each route's handler, by `METHOD url`. */
    handlerHits: Map<string, number>;
    /** Signs like a client would (fresh nonce, now); `body` is sent as application/json unless told. */
    signed(key: IdentityKey, method: string, target: string, body?: Buffer | string, opts?: {
        contentType?: string;
        authority?: string;
        now?: number;
    }): RawRequest;
    /**
     * Sends through inject from a random source address (or the one given), or with `tcp` over a
     * real socket to the vault once it listens (inject resolves `.` and `..` path segments itself,
     * so a request target that must reach the vault byte for byte goes over TCP).
     */
    send(req: RawRequest, opts?: {
        remoteAddress?: string;
        tcp?: boolean;
    }): Promise<Answer & {
        raw: string;
    }>;
    /** Error and fatal lines the vault logged (the in-memory log is drained as the run goes). */
    loggedErrors: {
        count: number;
        examples: string[];
    };
    /** A random source address in 10.0.0.0/8 or 2001:db8::/32. */
    address(): string;
    close(): Promise<void>;
}
export declare function startHarness(opts: {
    seed: number;
    limits?: AppOptions['limits'];
}): Promise<Harness>;
/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
export declare function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void>;

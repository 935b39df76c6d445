import type { Document } from 'bson';
import type { RoleRef } from './mongo-users.js';
/** MongoDB 7.0's wire version; its minimum is 0 as every mongod reports. */
export declare const WIRE_VERSION: {
    readonly min: 0;
    readonly max: 21;
};
export declare const SERVER_VERSION = "7.0.14";
export interface MongoWireUserSeed {
    db: string;
    user: string;
    pwd: string;
    roles?: Array<RoleRef>;
}
export interface MongoWireTestServerOptions {
    users?: MongoWireUserSeed[];
    /** PEM key and certificate: the server then speaks TLS only (like `net.tls.mode: requireTLS`). */
    tls?: {
        key: string | Buffer;
        cert: string | Buffer;
    };
    host?: string;
    port?: number;
    /** SCRAM-SHA-256 iteration count for stored credentials; mongod's default 15000, at least 4096. */
    iterations?: number;
    /** Answer `speculativeAuthenticate` in the handshake as MongoDB ≥ 4.4 does (default true). */
    speculativeAuthentication?: boolean;
}
/** A user as a test may inspect it: never a credential. */
export interface MongoWireUserView {
    db: string;
    user: string;
    roles: RoleRef[];
    mechanisms: string[];
    credentialWrites: number;
}
/** One received command, with `pwd` and SASL payloads replaced as mongod redacts them in logs. */
export interface MongoWireCommandRecord {
    connectionId: number;
    name: string;
    db: string;
    opCode: number;
    authenticatedAs: {
        user: string;
        db: string;
    } | undefined;
    body: Document;
}
export declare class MongoWireTestServer {
    readonly host: string;
    port: number;
    readonly tls: boolean;
    private readonly store;
    private readonly connections;
    private readonly log;
    private nextConnectionId;
    private nextRequestId;
    private readonly iterations;
    private readonly speculative;
    private readonly server;
    private readonly stalled;
    private constructor();
    /** Starts listening and seeds the users (their credentials derived as createUser would). */
    static start(options?: MongoWireTestServerOptions): Promise<MongoWireTestServer>;
    /**
     * A connection string for tests that build their own MongoClient (`directConnection=true`).
     * With a user and password they are percent-encoded into it; prefer MongoClient's `auth` option.
     */
    url(user?: string, pwd?: string): string;
    users(): MongoWireUserView[];
    /** Every command received so far, oldest first (secret fields redacted). */
    commands(): MongoWireCommandRecord[];
    /**
     * Fault injection: from now on the named command is received and logged but never answered
     * (a hung server, a lost reply). `stallCommand(name, false)` lets later ones through again.
     */
    stallCommand(name: string, stall?: boolean): void;
    /** Open client connections right now. */
    openConnections(): number;
    stop(): Promise<void>;
    private accept;
    private onData;
    private onMessage;
    private write;
    private runOpQuery;
    private runOpMsg;
    private dispatch;
    private hello;
    private connectionStatus;
    private saslStart;
    private saslContinue;
    private authenticate;
    private createUser;
    private updateUser;
    private dropUser;
    private usersInfo;
    private rolesOf;
    /** mongod's buildCredentials for a SCRAM-SHA-256-only server. */
    private buildCredential;
}

import type { CredentialProvider, InitializeRequest, InitializeResponse, PreflightRequest, PreflightResponse, Credential, VerifyResponse } from '../provider.js';
export interface MongoProviderOptions {
    /** How long to wait for the server before giving up (default 5000 ms). */
    serverSelectionTimeoutMS?: number;
    /** TCP/TLS connect timeout (default: serverSelectionTimeoutMS). */
    connectTimeoutMS?: number;
    /** How long a command may wait for its reply (default 30000 ms): a hung server fails, never hangs. */
    socketTimeoutMS?: number;
}
export declare class MongoProvider implements CredentialProvider {
    readonly engine: "mongodb";
    readonly operations: readonly ["setPassword"];
    private session;
    private targetSide;
    private readonly secrets;
    private readonly serverSelectionTimeoutMS;
    private readonly connectTimeoutMS;
    private readonly socketTimeoutMS;
    constructor(options?: MongoProviderOptions);
    initialize(req: InitializeRequest): Promise<InitializeResponse>;
    setPassword(req: Credential): Promise<void>;
    verify(req: Credential): Promise<VerifyResponse>;
    preflight(req: PreflightRequest): Promise<PreflightResponse>;
    close(): Promise<void>;
    secretValues(): string[];
    private require;
    private requireTarget;
    private remember;
    private tuning;
    private context;
}
/** A new, uninitialised MongoDB provider. */
export declare function createMongoProvider(options?: MongoProviderOptions): MongoProvider;
/**
 * Whether MongoDB reads back the name the driver sends in SCRAM. mongodb 7.x's `cleanUsername`
 * uses `String.replace` with a string, which escapes only the FIRST "=" and ","; mongod splits
 * the message at every raw "," and decodes every "=2C" then "=3D" (replace-all). A name with a
 * second "," — or a later "=2C"/"=3D" — therefore arrives as another name and never logs in.
 */
export declare function scramNameRoundTrips(name: string): boolean;

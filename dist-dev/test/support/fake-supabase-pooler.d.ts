export interface FakeSupabasePoolerOptions {
    /** The PostgreSQL server behind the pooler (plain TCP). */
    upstream: {
        host: string;
        port: number;
    };
    /** The suffix every user name must carry: `<role>.<projectRef>`. */
    projectRef: string;
    /** Certificate and key files: the pooler then offers TLS and requires it. Omitted: no TLS ('N'). */
    tls?: {
        certFile: string;
        keyFile: string;
    };
    /** The cluster's superuser, to read pg_authid for `cacheCredentials`. */
    superuser?: {
        user: string;
        password: string;
    };
    host?: string;
}
/** One login attempt as the pooler saw it; never a password. */
export interface PoolerLogin {
    /** The user name the client sent. */
    user: string;
    /** The role forwarded to the cluster ('' when refused before that). */
    role: string;
    tls: boolean;
    outcome: 'forwarded' | 'tenant-not-found' | 'cache-refused' | 'tls-required';
}
export declare class FakeSupabasePooler {
    private readonly options;
    readonly host: string;
    port: number;
    private readonly server;
    private readonly sockets;
    private readonly seen;
    private readonly secureContext;
    private cacheMs;
    private readonly verifiers;
    private admin;
    private constructor();
    static start(options: FakeSupabasePoolerOptions): Promise<FakeSupabasePooler>;
    /** Every login attempt so far, oldest first. */
    logins(): PoolerLogin[];
    /**
     * For `ms` after the pooler notices that a role's password changed, it refuses that role's
     * logins itself (FATAL 28P01). Takes a snapshot of every role's stored password now, so a change
     * made after this call is noticed at the next login. 0 turns the emulation off.
     */
    cacheCredentials(ms: number): Promise<void>;
    stop(): Promise<void>;
    private track;
    private accept;
    private handshake;
    private startup;
    /** True while the emulated cache still holds a role's previous password. */
    private servesStaleCredential;
    private adminClient;
}

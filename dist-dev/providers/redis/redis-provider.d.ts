import type { CredentialProvider } from '../provider.js';
export interface RedisProviderOptions {
    /** Per connection attempt (TCP and TLS handshake); default 10 s. */
    connectTimeoutMs?: number;
    /** Per command; default 30 s. */
    commandTimeoutMs?: number;
}
export declare const redisProvider: (options?: RedisProviderOptions) => CredentialProvider;
/** What Redis stores for a password: hex SHA-256 of its bytes. */
export declare function passwordHash(password: string): string;

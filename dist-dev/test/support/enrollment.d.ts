import type { IdentityKey } from '../../protocol/keys.js';
import type { InjectedResponse, TestVault } from './vault-app.js';
export interface EnrollOptions {
    key?: IdentityKey;
    hostname?: string;
    remoteAddress?: string;
}
export declare function enroll(v: TestVault, token: string, o?: EnrollOptions): Promise<{
    key: IdentityKey;
    res: InjectedResponse;
}>;
export declare function enrollBody(key: IdentityKey, token: string, hostname: string): {
    token: string;
    publicKey: string;
    hostname: string;
};
/** The error code of a vault answer, if it is an error. */
export declare function codeOf(res: {
    body: unknown;
}): string | undefined;
export declare function messageOf(res: {
    body: unknown;
}): string;
/** Creates a token through the operator API; returns its id and the token (shown once). */
export declare function createToken(v: TestVault, kind: 'enrollment' | 'bootstrap', body: Record<string, unknown>): Promise<{
    id: string;
    token: string;
}>;

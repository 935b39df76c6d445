import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
export declare const MAX_TAGS = 32;
export declare const TAG_KEY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$";
export interface SecretMetadata {
    project: string;
    name: string;
    kind: string;
    isCanary: boolean;
    version: number | null;
    description: string | null;
    tags: Record<string, string>;
    createdAt: number;
    versions: number;
    rotation: {
        provider: string;
        strategy: string;
        enabled: boolean;
        pausedReason: string | null;
    } | null;
}
export declare function describeSecret(ctx: VaultContext, projectName: string, name: string): Promise<SecretMetadata>;
/** Sets the description (null clears it) and merges tags (`removeTags` drops keys). */
export declare function updateSecretMetadata(ctx: VaultContext, caller: Caller, projectName: string, name: string, change: {
    description?: string | null;
    tags?: Record<string, string>;
    removeTags?: string[];
}): Promise<SecretMetadata>;
export declare function renameSecret(ctx: VaultContext, caller: Caller, projectName: string, name: string, to: string): Promise<SecretMetadata>;

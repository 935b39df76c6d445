import { Keyring } from './crypto/keyring.js';
import type { Store } from './store/open-store.js';
import type { AuditKeys } from './modules/audit/audit-store.js';
import type { EnsureAuditKeysOptions } from './modules/audit/audit-keys.js';
export declare const CHECK_KEY = "root_key_check";
/**
 * Creates a vault in an empty store: a new root key (returned once, never stored), its check
 * value, the audit MAC and signing keys (wrapped under the root key; every event from the first
 * is MAC'd), and the first operator (owner) from a public key.
 */
export declare function initVault(store: Store, req: {
    operatorPublicKey: string;
    operatorName?: string;
    now?: number;
}): Promise<{
    rootKey: Buffer;
    operatorKeyId: string;
    vaultId: string;
    auditPublicKey: string;
}>;
/** Checks the root key against the stored check value before anything is served or written. */
export declare function openVault(store: Store, rootKey: Buffer): Promise<Keyring>;
/**
 * openVault, then the audit keys: loaded, or made for a vault from before them (the existing
 * chain is verified first; see modules/audit/audit-keys.ts). What `serve` runs at start-up.
 */
export declare function openVaultWithAudit(store: Store, rootKey: Buffer, opts?: EnsureAuditKeysOptions): Promise<{
    keyring: Keyring;
    auditKeys: AuditKeys;
}>;

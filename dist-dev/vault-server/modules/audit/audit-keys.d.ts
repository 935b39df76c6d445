import type { Kysely } from 'kysely';
import type { Keyring } from '../../crypto/keyring.js';
import type { Database } from '../../store/database.js';
import type { Store } from '../../store/open-store.js';
import type { AuditKeys } from './audit-store.js';
export declare const AUDIT_MAC_KEY = "audit_mac_key";
export declare const AUDIT_SIGNING_KEY = "audit_signing_key";
export declare const AUDIT_KEYED_FROM = "audit_keyed_from";
export interface EnsureAuditKeysOptions {
    /** Key a log whose existing SHA-256 chain is broken (audited); otherwise such a vault refuses to start. */
    acceptBrokenChain?: boolean;
    now?: number;
}
/** New keys, wrapped for the store. */
export declare function newAuditKeys(keyring: Keyring, keyedFrom: number): {
    keys: AuditKeys;
    rows: Array<{
        key: string;
        value: Buffer;
    }>;
};
/** The stored keys, unwrapped; undefined when there are none; SK_ERR_AUDIT_KEYS_MISSING when only some are there. */
export declare function loadAuditKeys(db: Kysely<Database>, keyring: Keyring): Promise<AuditKeys | undefined>;
/**
 * Loads the audit keys, or makes them for a vault that has none (see the file comment). Throws
 * SK_ERR_AUDIT_CHAIN, naming the first bad seq, when the existing chain is broken and
 * `acceptBrokenChain` is not set; SK_ERR_AUDIT_KEYS_MISSING when the log was keyed before but
 * its keys are gone (making new ones would let whoever deleted them re-key a rewritten chain).
 */
export declare function ensureAuditKeys(store: Store, keyring: Keyring, opts?: EnsureAuditKeysOptions): Promise<AuditKeys>;

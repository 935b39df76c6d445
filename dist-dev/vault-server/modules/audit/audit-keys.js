/**
 * The audit keys (issue "Hardening", item 3): a 32-byte HMAC key that MACs every event's hash and
 * the chain head, and an Ed25519 key that signs checkpoints (`audit head`). Both are stored in
 * `vault_meta` wrapped under the root key (Keyring.wrapAuditKey), each as a 4-byte big-endian key
 * version followed by the sealed box; the version is part of the AAD. Without the root key nobody
 * can MAC a rewritten chain, so whoever can only write the database can no longer delete events,
 * re-hash the rest and have `audit verify` say ok.
 *
 * `init` makes the keys with the vault. A vault created before them gets them the first time it
 * is opened with its root key (serve, after the check value): the existing SHA-256 chain is
 * verified first; if it is intact every existing event is MAC'd (the whole history is covered),
 * if not the vault refuses to start unless `--accept-broken-chain` was given, in which case the
 * keyed chain starts at the `audit.keys.created` event, which records the break it accepted.
 *
 * Idempotent and safe against two vaults starting at once: the work happens in one write
 * transaction holding the chain head, and re-checks under it whether another vault was first.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { rawPublicKey } from '../../../protocol/keys.js';
import { forUpdate, transaction } from '../../store/locks.js';
import { appendAudit, eventMac, verifyAuditChain } from './audit-store.js';
export const AUDIT_MAC_KEY = 'audit_mac_key';
export const AUDIT_SIGNING_KEY = 'audit_signing_key';
export const AUDIT_KEYED_FROM = 'audit_keyed_from';
const KEY_VERSION = 1;
function versioned(version, box) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(version, 0);
    return Buffer.concat([v, box]);
}
function unversioned(value) {
    if (value.length < 5)
        throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', 'decryption failed: a stored audit key is too short');
    return { version: value.readUInt32BE(0), box: value.subarray(4) };
}
/** New keys, wrapped for the store. */
export function newAuditKeys(keyring, keyedFrom) {
    const macKey = randomBytes(32);
    const { privateKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const keys = { version: KEY_VERSION, macKey, signingKey: privateKey, publicKey: Buffer.from(rawPublicKey(privateKey)), keyedFrom };
    return {
        keys,
        rows: [
            { key: AUDIT_MAC_KEY, value: versioned(KEY_VERSION, keyring.wrapAuditKey('mac', KEY_VERSION, macKey)) },
            { key: AUDIT_SIGNING_KEY, value: versioned(KEY_VERSION, keyring.wrapAuditKey('signing', KEY_VERSION, der)) },
            { key: AUDIT_KEYED_FROM, value: Buffer.from(String(keyedFrom), 'utf8') },
        ],
    };
}
/** The stored keys, unwrapped; undefined when there are none; SK_ERR_AUDIT_KEYS_MISSING when only some are there. */
export async function loadAuditKeys(db, keyring) {
    const rows = await db.selectFrom('vault_meta').select(['key', 'value']).where('key', 'in', [AUDIT_MAC_KEY, AUDIT_SIGNING_KEY, AUDIT_KEYED_FROM]).execute();
    const by = new Map(rows.map((r) => [r.key, r.value]));
    if (by.size === 0)
        return undefined;
    const mac = by.get(AUDIT_MAC_KEY);
    const signing = by.get(AUDIT_SIGNING_KEY);
    const from = by.get(AUDIT_KEYED_FROM);
    if (!mac || !signing || !from) {
        throw new SikkerKeyError('SK_ERR_AUDIT_KEYS_MISSING', 'some of the audit keys are missing from vault_meta: the store was tampered with or damaged; restore it from a backup');
    }
    const m = unversioned(mac);
    const s = unversioned(signing);
    const macKey = keyring.unwrapAuditKey('mac', m.version, m.box);
    const signingKey = createPrivateKey({ key: keyring.unwrapAuditKey('signing', s.version, s.box), format: 'der', type: 'pkcs8' });
    const keyedFrom = Number(from.toString('utf8'));
    if (!Number.isSafeInteger(keyedFrom) || keyedFrom < 1)
        throw new SikkerKeyError('SK_ERR_AUDIT_KEYS_MISSING', 'vault_meta.audit_keyed_from is not a sequence number');
    return { version: m.version, macKey, signingKey, publicKey: Buffer.from(rawPublicKey(signingKey)), keyedFrom };
}
/**
 * Loads the audit keys, or makes them for a vault that has none (see the file comment). Throws
 * SK_ERR_AUDIT_CHAIN, naming the first bad seq, when the existing chain is broken and
 * `acceptBrokenChain` is not set; SK_ERR_AUDIT_KEYS_MISSING when the log was keyed before but
 * its keys are gone (making new ones would let whoever deleted them re-key a rewritten chain).
 */
export async function ensureAuditKeys(store, keyring, opts = {}) {
    const loaded = await loadAuditKeys(store.db, keyring);
    if (loaded)
        return loaded;
    const made = await transaction(store, async (trx) => {
        await forUpdate(store.dialect, trx.selectFrom('audit_head').select('seq').where('id', '=', 1)).executeTakeFirst();
        const again = await trx.selectFrom('vault_meta').select('key').where('key', '=', AUDIT_MAC_KEY).executeTakeFirst();
        if (again)
            return undefined; // another vault process made them first
        const keyedBefore = await trx.selectFrom('audit_events').select('seq')
            .where((eb) => eb.or([eb('mac', 'is not', null), eb('action', '=', 'audit.keys.created')])).limit(1).executeTakeFirst();
        if (keyedBefore) {
            throw new SikkerKeyError('SK_ERR_AUDIT_KEYS_MISSING', 'the audit log was keyed (events carry MACs) but the audit keys are gone from vault_meta: the store was tampered with or damaged; restore it from a backup');
        }
        const report = await verifyAuditChain(trx);
        if (!report.ok && !opts.acceptBrokenChain) {
            const bad = report.firstBad;
            throw new SikkerKeyError('SK_ERR_AUDIT_CHAIN', `the existing audit chain is broken at event ${bad.seq} (${bad.reason}), so the audit keys were not created and the vault did not start. ` +
                'Restore the store from a backup, or start once with --accept-broken-chain to key the log from now on (the acceptance is itself audited)');
        }
        const head = await trx.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirst();
        const headSeq = head ? Number(head.seq) : 0;
        const keyedFrom = report.ok ? 1 : headSeq + 1;
        const { keys, rows } = newAuditKeys(keyring, keyedFrom);
        const now = opts.now ?? Date.now();
        await trx.insertInto('vault_meta').values(rows.map((r) => ({ ...r, updated_at: now }))).execute();
        let backfilled = 0;
        if (report.ok) {
            // The whole (verified) history gets its MACs, page by page.
            for (let after = 0;;) {
                const page = await trx.selectFrom('audit_events').select(['seq', 'hash']).where('seq', '>', after).orderBy('seq', 'asc').limit(2000).execute();
                if (page.length === 0)
                    break;
                for (const r of page) {
                    await trx.updateTable('audit_events').set({ mac: eventMac(keys.macKey, r.hash) }).where('seq', '=', r.seq).execute();
                    backfilled += 1;
                    after = Number(r.seq);
                }
            }
        }
        await appendAudit(trx, store.dialect, {
            actorKind: 'system', actorId: null, action: 'audit.keys.created', target: 'audit', outcome: 'success',
            details: {
                keyVersion: keys.version, publicKey: keys.publicKey.toString('base64'), keyedFrom, backfilled,
                ...(report.ok ? {} : { acceptedBrokenChain: { seq: report.firstBad.seq, reason: report.firstBad.reason } }),
            },
        }, now, keys);
        return keys;
    }, { write: true });
    return made ?? (await loadAuditKeys(store.db, keyring));
}
//# sourceMappingURL=audit-keys.js.map
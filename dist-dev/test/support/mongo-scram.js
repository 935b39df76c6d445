/**
 * Server side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) for the MongoDB wire TEST DOUBLE.
 * Test support only.
 *
 * Follows what mongod does (src/mongo/db/auth/sasl_scram_server_conversation.cpp): the username
 * is decoded with "=2C" → "," then "=3D" → "=" (replace-all, as mongod does), empty comma
 * fields are skipped, the password is SASLprep'd before PBKDF2 (SCRAM-SHA-256 only), and any
 * failure is reported to the client as the one "Authentication failed." by the caller.
 * Stricter than mongod in one place, as RFC 5802 asks: the channel-binding attribute of the
 * client-final message must be base64 of the gs2 header it sent first ("biws" for "n,,").
 *
 * @example
 *   const cred = await makeScramSha256Credential(password, 15_000);
 *   const conv = new ScramSha256Conversation((name) => lookup(name));
 *   const first = conv.start(clientFirstBytes);   // server-first or a failure
 *   const final = conv.finish(clientFinalBytes);  // server-final ("v=...") or a failure
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslprep } from '@mongodb-js/saslprep';
const pbkdf2Async = promisify(pbkdf2);
/** mongod's default `scramSHA256IterationCount`. */
export const DEFAULT_SCRAM_SHA256_ITERATIONS = 15_000;
const MIN_ITERATIONS = 4096;
/** mongod's salt for SCRAM-SHA-256 is hash length minus 4 bytes. */
const SALT_BYTES = 28;
/**
 * SASLprep as mongod applies it to a SCRAM-SHA-256 password. Throws on prohibited characters,
 * which the caller turns into an error reply.
 */
export function prepPassword(password) {
    return saslprep(password);
}
/** `salt` is for known-answer tests (RFC 7677's example); normally 28 random bytes. */
export async function makeScramSha256Credential(password, iterationCount = DEFAULT_SCRAM_SHA256_ITERATIONS, salt = randomBytes(SALT_BYTES)) {
    if (!Number.isInteger(iterationCount) || iterationCount < MIN_ITERATIONS) {
        throw new RangeError(`SCRAM iteration count must be an integer ≥ ${MIN_ITERATIONS}`);
    }
    const salted = await pbkdf2Async(Buffer.from(prepPassword(password), 'utf8'), salt, iterationCount, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    return {
        iterationCount,
        salt: salt.toString('base64'),
        storedKey: createHash('sha256').update(clientKey).digest('base64'),
        serverKey: hmac(salted, 'Server Key').toString('base64'),
    };
}
function hmac(key, data) {
    return createHmac('sha256', key).update(data).digest();
}
/** mongod's decodeSCRAMUsername: replace-all "=2C" then "=3D". */
export function decodeScramUsername(encoded) {
    return encoded.split('=2C').join(',').split('=3D').join('=');
}
/**
 * One SCRAM-SHA-256 conversation. Payloads are handled as bytes ("latin1" strings internally) so
 * the AuthMessage is exactly what the client hashed, whatever UTF-8 its username holds.
 */
export class ScramSha256Conversation {
    lookup;
    serverNonce;
    step = 0;
    username = '';
    gs2Header = '';
    nonce = '';
    authMessage = '';
    credential;
    /** `serverNonce` is for known-answer tests; mongod uses 24 random bytes, base64. */
    constructor(lookup, serverNonce = () => randomBytes(24).toString('base64')) {
        this.lookup = lookup;
        this.serverNonce = serverNonce;
    }
    get principal() {
        return this.username;
    }
    /** client-first-message → server-first-message. */
    start(clientFirst) {
        if (this.step !== 0)
            return { ok: false, reason: 'SCRAM conversation already started' };
        this.step = 1;
        const input = clientFirst.toString('latin1');
        const cbindComma = input.indexOf(',');
        if (cbindComma < 0)
            return { ok: false, reason: 'first SCRAM message has no gs2 header' };
        const cbindFlag = input.slice(0, cbindComma);
        if (cbindFlag.startsWith('p='))
            return { ok: false, reason: 'channel binding is not supported' };
        if (cbindFlag !== 'n' && cbindFlag !== 'y')
            return { ok: false, reason: `bad gs2 channel-binding flag` };
        const headerComma = input.indexOf(',', cbindComma + 1);
        if (headerComma < 0)
            return { ok: false, reason: 'gs2 header is not terminated' };
        const authzid = input.slice(cbindComma + 1, headerComma);
        if (authzid !== '' && !authzid.startsWith('a='))
            return { ok: false, reason: 'bad authzid' };
        this.gs2Header = input.slice(0, headerComma + 1);
        const bare = input.slice(headerComma + 1);
        if (bare.startsWith('m='))
            return { ok: false, reason: 'SCRAM mandatory extensions are not supported' };
        const fields = bare.split(',').filter((f) => f !== '');
        const [userField, nonceField] = fields;
        if (userField === undefined || !userField.startsWith('n=') || userField.length < 3) {
            return { ok: false, reason: 'invalid SCRAM user name' };
        }
        this.username = decodeScramUsername(Buffer.from(userField.slice(2), 'latin1').toString('utf8'));
        if (authzid !== '' && decodeScramUsername(Buffer.from(authzid.slice(2), 'latin1').toString('utf8')) !== this.username) {
            return { ok: false, reason: 'authzid does not match the user name' };
        }
        if (nonceField === undefined || !nonceField.startsWith('r=') || nonceField.length < 6) {
            return { ok: false, reason: 'invalid SCRAM client nonce' };
        }
        this.credential = this.lookup(this.username);
        if (this.credential === undefined)
            return { ok: false, reason: `no SCRAM-SHA-256 credential for this user` };
        this.nonce = nonceField.slice(2) + this.serverNonce();
        const serverFirst = `r=${this.nonce},s=${this.credential.salt},i=${this.credential.iterationCount}`;
        this.authMessage = `${bare},${serverFirst}`;
        return { ok: true, payload: Buffer.from(serverFirst, 'latin1'), username: this.username, done: false };
    }
    /** client-final-message → server-final-message ("v=ServerSignature"), after checking the proof. */
    finish(clientFinal) {
        if (this.step !== 1 || this.credential === undefined)
            return { ok: false, reason: 'SCRAM step out of order' };
        this.step = 2;
        const input = clientFinal.toString('latin1');
        const lastComma = input.lastIndexOf(',');
        if (lastComma < 0)
            return { ok: false, reason: 'final SCRAM message has too few fields' };
        const withoutProof = input.slice(0, lastComma);
        const proofField = input.slice(lastComma + 1);
        if (!proofField.startsWith('p=') || proofField.length < 3)
            return { ok: false, reason: 'missing ClientProof' };
        const fields = withoutProof.split(',').filter((f) => f !== '');
        const [cbind, nonceField] = fields;
        if (cbind === undefined || cbind !== `c=${Buffer.from(this.gs2Header, 'latin1').toString('base64')}`) {
            return { ok: false, reason: 'channel binding does not match the gs2 header' };
        }
        if (nonceField === undefined || nonceField !== `r=${this.nonce}`)
            return { ok: false, reason: 'nonce mismatch' };
        const authMessage = Buffer.from(`${this.authMessage},${withoutProof}`, 'latin1');
        const storedKey = Buffer.from(this.credential.storedKey, 'base64');
        const serverKey = Buffer.from(this.credential.serverKey, 'base64');
        const proof = Buffer.from(proofField.slice(2), 'base64');
        const clientSignature = hmac(storedKey, authMessage);
        if (proof.length !== clientSignature.length)
            return { ok: false, reason: 'ClientProof has the wrong length' };
        const clientKey = Buffer.alloc(proof.length);
        for (let i = 0; i < proof.length; i++)
            clientKey[i] = (proof[i] ?? 0) ^ (clientSignature[i] ?? 0);
        const derivedStoredKey = createHash('sha256').update(clientKey).digest();
        if (!timingSafeEqual(derivedStoredKey, storedKey))
            return { ok: false, reason: 'storedKey mismatch' };
        const serverSignature = hmac(serverKey, authMessage).toString('base64');
        return { ok: true, payload: Buffer.from(`v=${serverSignature}`, 'latin1'), username: this.username, done: true };
    }
}
//# sourceMappingURL=mongo-scram.js.map
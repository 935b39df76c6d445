/**
 * In-process enrollment for the lifecycle tests: a fresh key registers itself with a token
 * through `POST /v1/enroll`, the request signed by that key (proof of possession).
 *
 * @example
 *   const { key, res } = await enroll(v, token, { hostname: 'runner-1', remoteAddress: '10.1.2.3' });
 */
import { generateIdentityKey } from '../../protocol/keys.js';
export async function enroll(v, token, o = {}) {
    const key = o.key ?? generateIdentityKey();
    const res = await v.call(key, 'POST', '/v1/enroll', enrollBody(key, token, o.hostname ?? 'runner-1'), o.remoteAddress ? { remoteAddress: o.remoteAddress } : {});
    return { key, res };
}
export function enrollBody(key, token, hostname) {
    return { token, publicKey: Buffer.from(key.publicKey).toString('base64url'), hostname };
}
/** The error code of a vault answer, if it is an error. */
export function codeOf(res) {
    return res.body?.error?.code;
}
export function messageOf(res) {
    return res.body?.error?.message ?? '';
}
/** Creates a token through the operator API; returns its id and the token (shown once). */
export async function createToken(v, kind, body) {
    const res = await v.call(v.operator, 'POST', kind === 'enrollment' ? '/v1/enrollment-tokens' : '/v1/bootstrap-tokens', body);
    if (res.status !== 201)
        throw new Error(`token create failed: ${res.raw}`);
    return res.body;
}
//# sourceMappingURL=enrollment.js.map
import type { KeyObject } from 'node:crypto';
import type { IncomingRequest, NonceStore } from '../../protocol/signing.js';
/** A NonceStore in a Map; `claims` counts every call, `held` the claimed pairs. */
export declare function memoryNonceStore(): NonceStore & {
    held: Map<string, number>;
    claims: number;
};
/**
 * The Signature header value (`<label>=:<base64>:`) for the first member of `signatureInput`,
 * computed straight from RFC 9421 §2.5 over `req` as the verifier will see it.
 */
export declare function signForInput(req: IncomingRequest, authority: string, signatureInput: string, privateKey: KeyObject): string;

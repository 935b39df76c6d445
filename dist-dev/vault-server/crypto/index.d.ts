/** The vault's encryption at rest: the folder's public face. */
export { AAD_PURPOSE, encodeAad } from './aad.js';
export type { AadPurpose } from './aad.js';
export { open, seal, KEY_BYTES, NONCE_BYTES, TAG_BYTES, SEAL_OVERHEAD } from './envelope.js';
export { Keyring } from './keyring.js';
export type { DecryptValueRequest, EncryptValueRequest, EncryptValueResponse, NewProjectKeyRequest, NewProjectKeyResponse, ProjectKeyRef, RewrapDataKeyRequest, } from './keyring.js';
export { generateRootKey, loadRootKey, parseRootKey, ROOT_KEY_ENV, ROOT_KEY_SOURCES_HELP } from './root-key.js';
export type { RootKeySource } from './root-key.js';

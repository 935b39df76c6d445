/**
 * The browser's identity: a non-extractable Ed25519 CryptoKeyPair kept in IndexedDB (a structured
 * clone of a CryptoKey stays non-extractable), with its key id and the operator it belongs to.
 * Nothing goes to localStorage; clearing the site's data removes the key.
 *
 * @example
 *   const id = await loadIdentity(); // undefined until an invitation was accepted here
 */
const DB = 'sikkerkey-dashboard';
const STORE = 'identity';
const SLOT = 'current';

export interface Identity {
  keyPair: CryptoKeyPair;
  keyId: string;
  operator: string;
  role: string;
  acceptedAt: number;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => { req.result.createObjectStore(STORE); };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB cannot be opened'));
  });
}

async function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export const loadIdentity = (): Promise<Identity | undefined> => run<Identity | undefined>('readonly', (s) => s.get(SLOT));
export const saveIdentity = async (id: Identity): Promise<void> => { await run('readwrite', (s) => s.put(id, SLOT)); };
export const forgetIdentity = async (): Promise<void> => { await run('readwrite', (s) => s.delete(SLOT)); };

/** A fresh Ed25519 key pair whose private half can never be exported. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** Whether WebCrypto can work here: a secure context (https, or http on localhost / 127.0.0.1). */
export function secureContextProblem(): string | undefined {
  if (globalThis.isSecureContext && globalThis.crypto?.subtle) return undefined;
  return `This page was opened over plain HTTP at ${location.host}. Browsers allow WebCrypto keys only in a secure context: `
    + 'serve the vault with TLS (sikkerkey-vault serve --tls-cert … --tls-key …, then open https://…), '
    + 'or open it on this machine as http://localhost:PORT/ui/ (for a remote vault: ssh -L PORT:127.0.0.1:PORT host).';
}

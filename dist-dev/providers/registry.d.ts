import type { CredentialProvider, Engine } from './provider.js';
/** The provider for `engine`, its module imported now. Unknown engines are a config error. */
export declare function loadProvider(engine: Engine): Promise<CredentialProvider>;

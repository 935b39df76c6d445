import type { WireMessage } from './mongo-wire-protocol.js';
export declare class RawWireClient {
    private readonly socket;
    private readonly framer;
    private readonly queue;
    private waiters;
    private closedFlag;
    private readonly closedPromise;
    private constructor();
    static connect(port: number, host?: string): Promise<RawWireClient>;
    send(bytes: Buffer): void;
    /** The next whole message; rejects if the server closes first or after `timeoutMs`. */
    next(timeoutMs?: number): Promise<WireMessage>;
    /** Resolves true when the server closes the connection within `timeoutMs`, else false. */
    closedByServer(timeoutMs?: number): Promise<boolean>;
    close(): void;
}

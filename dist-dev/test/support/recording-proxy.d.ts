export interface RecordingProxy {
    port: number;
    /** Every byte seen so far, both directions, in arrival order. */
    recorded(): Buffer;
    /** Bytes from clients towards the target. */
    fromClients(): Buffer;
    /** Bytes from the target towards clients. */
    fromTarget(): Buffer;
    /** Connections accepted (and forwarded) so far. */
    connections(): number;
    /** Where new connections go from now on. */
    setTarget(target: {
        host?: string;
        port: number;
    }): void;
    /** Resets every open connection and refuses new ones until restore(). */
    cut(): void;
    restore(): void;
    close(): Promise<void>;
}
export declare function startRecordingProxy(opts?: {
    target?: {
        host?: string;
        port: number;
    };
    record?: boolean;
}): Promise<RecordingProxy>;

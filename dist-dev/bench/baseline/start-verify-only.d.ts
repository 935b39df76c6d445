export interface VerifyOnlyServer {
    url: string;
    pid: number;
    pinned: boolean;
    stop(): Promise<void>;
}
export declare function startVerifyOnlyServer(opts: {
    publicKey: string;
    cpu?: number;
    valueBytes?: number;
    verify?: 'thread-pool' | 'sync';
}): Promise<VerifyOnlyServer>;

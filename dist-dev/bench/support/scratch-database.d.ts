export interface ScratchDatabase {
    name: string;
    url: string;
    drop(): Promise<void>;
}
export declare function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase>;

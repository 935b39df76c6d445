export declare function runRead(args: string[], store: 'sqlite' | 'postgres'): Promise<void>;
export declare function run(args: string[]): Promise<void>;

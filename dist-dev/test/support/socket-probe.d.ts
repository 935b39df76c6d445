export declare const SOCKET_PROBE_MARK = "[socket-probe] client socket opened";
export declare function socketProbeEnv(): NodeJS.ProcessEnv;

import type { Combo } from './crash-matrix.js';
export interface TrafficResult {
    combo: Combo;
    rotations: number;
    ok: number;
    failed: number;
    errors: number;
    versions: number;
}
export declare function trafficLine(r: TrafficResult): string;
export declare function runTraffic(combo: Combo, rotations: number, grace?: string): Promise<TrafficResult>;

export interface MachineInfo {
    cores: number;
    cpu: string;
    node: string;
}
export declare function machineInfo(): MachineInfo;

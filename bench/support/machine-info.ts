/** The machine a figure was measured on: cores, CPU model and Node version, for every bench's JSON. */
import { availableParallelism, cpus } from 'node:os';

export interface MachineInfo {
  cores: number;
  cpu: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return { cores: availableParallelism(), cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version };
}

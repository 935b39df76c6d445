/** The machine a figure was measured on: cores, CPU model and Node version, for every bench's JSON. */
import { availableParallelism, cpus } from 'node:os';
export function machineInfo() {
    return { cores: availableParallelism(), cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version };
}
//# sourceMappingURL=machine-info.js.map
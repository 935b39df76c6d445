// `npm run bench -- read-pg`: the read bench (read-bench.ts) with the vault on a fresh PostgreSQL
// database created from PG_URL and dropped afterwards. PostgreSQL itself is not pinned.
import { runRead } from './read-bench.js';
export function run(args) {
    return runRead(args, 'postgres');
}
//# sourceMappingURL=read-pg-bench.js.map
// Preloaded into every test process by scripts/run-tests.mjs (`--import`): when a test file's own
// process exits, appends one line "<file>\t<seconds it ran>" to SK_TEST_TIMES_FILE, from which
// run-tests.mjs lists the slowest test files (node 20's reporters do not name files). Only the
// processes node:test starts for each file record (NODE_TEST_CONTEXT), never the --test parent
// nor a worker thread a test starts (it inherits the preload).
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const timesFile = process.env.SK_TEST_TIMES_FILE;
if (timesFile && isMainThread && process.env.NODE_TEST_CONTEXT?.startsWith('child') && process.argv[1]) {
  process.once('exit', () => {
    try {
      appendFileSync(timesFile, `${process.argv[1]}\t${process.uptime()}\n`);
    } catch {
      // a timing is worth less than the test's own exit
    }
  });
}

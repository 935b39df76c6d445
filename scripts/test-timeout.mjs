// Preloaded into every test process by scripts/run-tests.mjs (`--import`): gives each test() and
// it() that states no timeout of its own SK_TEST_TIMEOUT_MS milliseconds (120 s under npm test).
//
// Why not just `node --test --test-timeout=120000`: on Node 20 that option applies only in the
// `--test` parent process, to each test FILE as a whole (a file whose tests add up to more than
// 120 s fails), and the test processes themselves ignore it. A test that needs longer says so
// with test(name, { timeout }, fn). Suites (describe) get no timeout of their own here. Only the
// named exports are wrapped: `import test from 'node:test'` (the module object itself) is not.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const ms = Number(process.env.SK_TEST_TIMEOUT_MS);

if (Number.isInteger(ms) && ms > 0) {
  const nodeTest = createRequire(import.meta.url)('node:test');

  /** test([name][, options][, fn]) with `timeout: ms` added unless the options give one. */
  const withDefault = (fn) => {
    const wrapped = function (name, options, body) {
      // the same reading of the arguments as node:test's own
      if (typeof name === 'function') [name, options, body] = [undefined, undefined, name];
      else if (name !== null && typeof name === 'object') [name, options, body] = [undefined, name, options];
      else if (typeof options === 'function') [options, body] = [undefined, options];
      const withTimeout = options?.timeout === undefined ? { ...options, timeout: ms } : options;
      const args = [...(name === undefined ? [] : [name]), withTimeout, ...(body === undefined ? [] : [body])];
      return fn.apply(this, args);
    };
    // everything else hung on the function stays (node:test's default export is test itself,
    // carrying test.before, test.after, test.describe, test.mock …)
    const own = Object.getOwnPropertyDescriptors(fn);
    for (const key of ['length', 'name', 'prototype']) delete own[key];
    Object.defineProperties(wrapped, own);
    for (const variant of ['skip', 'todo', 'only']) {
      if (typeof fn[variant] === 'function') wrapped[variant] = withDefault(fn[variant]);
    }
    return wrapped;
  };

  const test = withDefault(nodeTest.test);
  const it = withDefault(nodeTest.it);
  for (const holder of [nodeTest, test]) Object.assign(holder, { test, it });
  // `import { test } from 'node:test'` in the test files, loaded after this, sees the wrapped ones
  syncBuiltinESMExports();
}

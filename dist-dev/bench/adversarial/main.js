#!/usr/bin/env node
/**
 * `npm run adversarial -- [--json] [--requests N] [--seed S]`: the adversarial run
 * (docs/adversarial.md). Progress goes to stderr; the last line of stdout is
 * `adversarial: N requests, 0 5xx, 0 crashes, 0 replays accepted, 0 mutations accepted`, or with
 * --json one JSON object with those counts, the per-category counts and how many requests reached
 * each route handler. Exits 1 when any rule was broken, 2 on bad usage.
 */
import { resultLine, runAdversarial } from './run-adversarial.js';
function usage(message) {
    process.stderr.write(`${message}\nusage: npm run adversarial -- [--json] [--requests N] [--seed S]\n`);
    process.exit(2);
}
const args = process.argv.slice(2);
let json = false;
let requests = 100_000;
let seed;
for (let i = 0; i < args.length; i += 1) {
    const a = args[i];
    const value = () => {
        const v = Number(args[i + 1]);
        i += 1;
        if (!Number.isSafeInteger(v) || v < 0)
            usage(`${a} needs a whole number`);
        return v;
    };
    if (a === '--json')
        json = true;
    else if (a === '--requests')
        requests = value();
    else if (a === '--seed')
        seed = value();
    else
        usage(`unknown argument ${JSON.stringify(a)}`);
}
if (requests < 50)
    usage('--requests must be at least 50');
const report = await runAdversarial({ requests, ...(seed !== undefined ? { seed } : {}), progress: (line) => process.stderr.write(`${line}\n`) });
if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
}
else {
    process.stdout.write(`seed ${report.seed}, ${report.seconds.toFixed(1)} s; handlers reached on ${report.routesReached} of ${report.routes} routes\n`);
    for (const [name, c] of Object.entries(report.categories))
        process.stdout.write(`  ${name}: ${c.requests} requests, ${c.failures} failures, statuses ${JSON.stringify(c.statuses)}\n`);
    if (!report.ok) {
        process.stdout.write(`FAILED: ${report.unregistered} unregistered codes, ${report.bodiesAccepted} bodies accepted, ${report.parserEscapes} parser escapes, ${report.prototypePolluted} prototype pollutions, ${report.hangs} hangs, ${report.setupFailures} setup failures\n`);
        for (const e of report.examples)
            process.stdout.write(`  [${e.category}] ${e.kind}: ${e.detail}\n`);
    }
    process.stdout.write(`${resultLine(report)}\n`);
}
process.exit(report.ok ? 0 : 1);
//# sourceMappingURL=main.js.map
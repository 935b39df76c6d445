import { CommanderError } from 'commander';
import { SikkerKeyError } from './errors.js';
/**
 * The output contract every SikkerKey command follows (DESIGN §11): with `--json`, one JSON
 * document on stdout and nothing else there; errors on stderr as `error SK_ERR_…: message` with a
 * non-zero exit code.
 */
export function printResult(json, value, human) {
    if (json)
        process.stdout.write(JSON.stringify(value) + '\n');
    else
        process.stdout.write(human() + '\n');
}
export function printError(err) {
    if (err instanceof SikkerKeyError) {
        process.stderr.write(`error ${err.code}: ${err.message}\n`);
        return err.statusCode === 400 ? 2 : 1;
    }
    if (err instanceof CommanderError) {
        if (err.exitCode === 0)
            return 0;
        process.stderr.write(`error SK_ERR_USAGE: ${err.message.replace(/^error: /, '')}\n`);
        return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error SK_ERR_INTERNAL: ${message}\n`);
    return 1;
}
/** Runs a commander program with our error contract; never leaves an unhandled rejection. */
export async function runCli(program, argv = process.argv) {
    const quiet = (cmd) => {
        cmd.exitOverride();
        // commander's own "error: …" lines are replaced by ours (printError) below.
        cmd.configureOutput({ writeErr: (s) => { if (!/^error: /.test(s))
                process.stderr.write(s); } });
        cmd.commands.forEach(quiet);
    };
    quiet(program);
    try {
        await program.parseAsync(argv);
    }
    catch (err) {
        const code = printError(err);
        process.exitCode = code;
    }
}
/** Collects a repeatable option into an array. */
export function collect(value, previous = []) {
    return [...previous, value];
}
//# sourceMappingURL=cli.js.map
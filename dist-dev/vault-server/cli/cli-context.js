import { SikkerKeyError } from '../../protocol/errors.js';
import { printResult } from '../../protocol/cli.js';
import { VaultClient } from '../../protocol/client.js';
/** --url, --key-file, --json wherever they were given on the line (they belong to the program). */
export function globals(cmd) {
    return cmd.optsWithGlobals();
}
/** The signed client for the operator: --url/--key-file, else SIKKERKEY_URL/SIKKERKEY_KEY_FILE. */
export function clientFor(cmd) {
    const g = globals(cmd);
    const url = g.url ?? process.env.SIKKERKEY_URL;
    const keyFile = g.keyFile ?? process.env.SIKKERKEY_KEY_FILE;
    if (!url)
        throw new SikkerKeyError('SK_ERR_USAGE', 'no vault URL: set SIKKERKEY_URL or pass --url');
    if (!keyFile)
        throw new SikkerKeyError('SK_ERR_USAGE', 'no operator key: set SIKKERKEY_KEY_FILE or pass --key-file');
    // SIKKERKEY_CA_FILE / SIKKERKEY_PIN_SHA256 are read by the client itself, for https:// only.
    return new VaultClient({ url, keyFile });
}
export function out(cmd, value, human) {
    printResult(Boolean(globals(cmd).json), value, human);
}
//# sourceMappingURL=cli-context.js.map
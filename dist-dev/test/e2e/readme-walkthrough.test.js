// The README's walkthrough, as the README has it: the commands are read from the `sh` block(s)
// under the heading "A vault in five minutes" and run in order against real processes (init a
// vault on SQLite, serve it, a project and a structured secret, a machine added by public key and
// granted one field, its signed read). When the README's commands change, this test runs the new
// ones. Then it checks what the walkthrough promises: the machine reads exactly the granted field,
// nothing else reads anything, the audit chain verifies, and the log never carries a value.
//
// The block is run by a small interpreter of the shell the README uses: comments, `export`,
// `VAR=value cmd`, `a && b`, `echo '…' | cmd`, `echo '…' > file`, `chmod`, a trailing `&`, and
// `npx <our program>`; anything else fails the test naming the line. Three substitutions make it
// runnable: `<placeholder>`s take the value an earlier command printed (see PLACEHOLDERS), the
// serve command's fixed listen address becomes a free port (everywhere it appears), and the
// programs run from dist/ in a temporary directory. A trailing `# {…}` comment that is JSON is the
// output the README promises, and is checked.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, jsonOf, runBin, startBin } from '../support/processes.js';
import { REPO_ROOT } from '../support/agent-binary.js';
import { freePort } from '../support/services.js';
import { waitFor } from '../support/wait.js';
/** The heading whose `sh` blocks are the walkthrough (up to the next heading of any level). */
const SECTION = 'A vault in five minutes';
/** `<placeholder>` → the earlier command that prints its value, and where in that output it is. */
const PLACEHOLDERS = {
    'operator public key': { printedBy: /^sikkerkey keygen\b/, value: /^public key: (\S+)$/m },
    'root key': { printedBy: /^sikkerkey-vault init\b/, value: /^Root key\b.*:\n\s+(\S+)$/m },
    'machine public key': { printedBy: /^sikkerkey-agent init\b/, value: /^public key: (\S+)$/m },
};
/** The walkthrough's command lines (with their README line numbers), from the section's `sh` blocks. */
function walkthroughLines(readme) {
    const lines = readme.split('\n');
    const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, '').startsWith(SECTION));
    assert.ok(start !== -1, `README.md has no heading starting "${SECTION}": this test runs the sh blocks under it. If the walkthrough moved, update SECTION in test/e2e/readme-walkthrough.test.ts`);
    const out = [];
    let inSh = false;
    let blocks = 0;
    for (let i = start + 1; i < lines.length; i++) {
        const l = lines[i];
        if (!inSh && /^#{1,6} /.test(l))
            break; // the next heading ends the section
        if (/^```/.test(l)) {
            inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(l);
            if (inSh)
                blocks += 1;
            continue;
        }
        if (inSh)
            out.push({ number: i + 1, text: l });
    }
    assert.ok(blocks > 0, `README.md's "${SECTION}" section has no \`\`\`sh block to run`);
    return out;
}
/** Splits a line into words and operators, as sh would (single and double quotes; `#` starts a comment). */
function tokenize(text, where) {
    const words = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (c === ' ' || c === '\t') {
            i++;
            continue;
        }
        if (c === '#')
            return { words, comment: text.slice(i + 1).trim() };
        const op = ['&&', '|', '>', '&'].find((o) => text.startsWith(o, i));
        if (op) {
            words.push({ op });
            i += op.length;
            continue;
        }
        let word = '';
        while (i < text.length && !' \t|&>'.includes(text[i])) {
            const q = text[i];
            if (q === "'" || q === '"') {
                const end = text.indexOf(q, i + 1);
                assert.ok(end !== -1, `${where}: an unclosed ${q}`);
                const inner = text.slice(i + 1, end);
                assert.ok(q === "'" || !/[$`\\]/.test(inner), `${where}: this test does not expand "$…", backquotes or escapes inside double quotes`);
                word += inner;
                i = end + 1;
            }
            else {
                assert.ok(!'$`\\;<(){}*?'.includes(q), `${where}: shell syntax this test does not run (${q}); extend the interpreter in test/e2e/readme-walkthrough.test.ts`);
                word += q;
                i++;
            }
        }
        words.push({ word });
    }
    return { words, comment: undefined };
}
const dir = mkdtempSync(join(tmpdir(), 'sk-walkthrough-'));
const background = [];
after(async () => {
    for (const p of background)
        await p.stop();
    rmSync(dir, { recursive: true, force: true });
});
test('the README walkthrough, run as written: a new user stands up a vault and a machine reads exactly the field it was granted', async () => {
    let lines = walkthroughLines(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
    // The vault's fixed address (e.g. 127.0.0.1:8200) becomes a free port wherever it appears.
    const listen = lines.map((l) => /--listen\s+(\S+:\d+)/.exec(l.text)?.[1]).find((x) => x !== undefined);
    assert.ok(listen, 'the walkthrough serves the vault with --listen HOST:PORT');
    const address = `127.0.0.1:${await freePort()}`;
    lines = lines.map((l) => ({ ...l, text: l.text.replaceAll(listen, address) }));
    const env = {};
    const ran = [];
    let vault;
    let stdinSecret;
    const substitute = (text, where) => text.replace(/<([a-z][a-z0-9 -]*)>/g, (_, name) => {
        const p = PLACEHOLDERS[name] ?? assert.fail(`${where}: the README uses <${name}>, which this test does not know how to fill in: add it to PLACEHOLDERS`);
        const source = [...ran].reverse().find((r) => p.printedBy.test(r.command)) ?? assert.fail(`${where}: <${name}> comes from "${p.printedBy.source}", which has not run before this line`);
        const value = p.value.exec(source.result.stdout)?.[1] ?? assert.fail(`${where}: "${source.command}" printed no ${name}: ${source.result.stdout}`);
        assert.match(value, /^[A-Za-z0-9+/=_-]+$/, `${where}: <${name}> is not a plain token`);
        return value;
    });
    for (const line of lines) {
        const where = `README.md:${line.number} (${line.text.trim()})`;
        if (line.text.trim() === '' || line.text.trim().startsWith('#'))
            continue;
        const { words, comment } = tokenize(substitute(line.text, where), where);
        // `a && b`: one command after the other, each of which must succeed.
        const commands = [[]];
        for (const w of words) {
            if ('op' in w && w.op === '&&')
                commands.push([]);
            else
                commands[commands.length - 1].push(w);
        }
        for (const [n, command] of commands.entries()) {
            const last = n === commands.length - 1;
            let detach = false;
            if (command.length > 0 && 'op' in command[command.length - 1] && command[command.length - 1].op === '&') {
                command.pop();
                detach = true;
            }
            // `echo 'text' | cmd` feeds cmd's stdin; `echo 'text' > file` writes the file.
            let input;
            const pipe = command.findIndex((w) => 'op' in w && w.op === '|');
            let argv = command.map((w) => ('word' in w ? w.word : `\u0000${w.op}`));
            if (pipe !== -1) {
                const [echo, ...text] = argv.slice(0, pipe);
                assert.equal(echo, 'echo', `${where}: only "echo … |" is supported before a pipe`);
                input = `${text.join(' ')}\n`;
                argv = argv.slice(pipe + 1);
            }
            assert.ok(!argv.some((a) => a.startsWith('\u0000') && a !== '\u0000>'), `${where}: an operator this test does not run`);
            const redirect = argv.indexOf('\u0000>');
            if (redirect !== -1) {
                const [echo, ...text] = argv.slice(0, redirect);
                assert.ok(echo === 'echo' && argv.length === redirect + 2, `${where}: only "echo … > FILE" is supported`);
                writeFileSync(join(dir, argv[redirect + 1]), `${text.join(' ')}\n`);
                continue;
            }
            const [first, ...rest] = argv;
            if (first === 'export') {
                for (const a of rest) {
                    const [k, ...v] = a.split('=');
                    env[k] = v.join('=');
                }
                continue;
            }
            if (first === 'chmod') {
                assert.ok(rest.length === 2 && /^[0-7]{3,4}$/.test(rest[0]), `${where}: only "chmod MODE FILE" is supported`);
                chmodSync(join(dir, rest[1]), parseInt(rest[0], 8));
                continue;
            }
            // `VAR=value … npx program args`
            const own = {};
            while (argv.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(argv[0])) {
                const [k, ...v] = argv.shift().split('=');
                own[k] = v.join('=');
            }
            if (argv[0] === 'npx')
                argv.shift();
            const [program, ...args] = argv;
            assert.ok(program !== undefined && program in BIN, `${where}: "${program}" is none of our programs (${Object.keys(BIN).join(', ')})`);
            const bin = program;
            const commandText = [bin, ...args].join(' ');
            if (detach) {
                assert.ok(bin === 'sikkerkey-vault' && args[0] === 'serve', `${where}: only the vault is run in the background`);
                vault = startBin(bin, args, { env: { ...env, ...own }, cwd: dir });
                background.push(vault);
                const started = vault;
                await waitFor(async () => {
                    if (started.proc.exitCode !== null)
                        assert.fail(`${where}: the vault exited: ${started.output()}`);
                    return (await fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(5_000) })).status;
                }, { what: `the vault from ${where} to answer /healthz`, timeoutMs: 30_000, until: (status) => status === 200, retryOn: (err) => !(err instanceof assert.AssertionError) });
                continue;
            }
            const result = await runBin(bin, args, { env: { ...env, ...own }, cwd: dir, ...(input !== undefined ? { input } : {}) });
            assert.equal(result.code, 0, `${where} failed (${result.code}): ${result.stderr}`);
            ran.push({ command: commandText, result });
            if (input !== undefined && args.includes('--fields-json-stdin'))
                stdinSecret = JSON.parse(input);
            // A trailing comment that is JSON is the output the README promises.
            if (last && comment !== undefined && /^[[{]/.test(comment)) {
                assert.deepEqual(JSON.parse(result.stdout), JSON.parse(comment), `${where}: the README promises ${comment}`);
            }
        }
    }
    // What the walkthrough sets up, read back from the commands it ran.
    assert.ok(vault, 'the walkthrough started a vault');
    const granted = ran.find((r) => /^sikkerkey grant add /.test(r.command)) ?? assert.fail('the walkthrough grants no field (sikkerkey grant add)');
    const [, machine, project, secret, fields] = /^sikkerkey grant add (\S+) --project (\S+) --secret (\S+) --fields (\S+)$/.exec(granted.command) ?? assert.fail(`unexpected grant: ${granted.command}`);
    const read = ran.filter((r) => /^sikkerkey-agent get /.test(r.command)).pop() ?? assert.fail('the walkthrough has no sikkerkey-agent get');
    const secretFields = stdinSecret ?? assert.fail('the walkthrough sets no structured secret from stdin');
    const grantedNames = fields.split(',');
    const ungranted = Object.keys(secretFields).filter((f) => !grantedNames.includes(f));
    assert.ok(ungranted.length > 0, 'the secret has a field that was not granted');
    // The machine read exactly the granted fields.
    assert.deepEqual(JSON.parse(read.result.stdout), Object.fromEntries(grantedNames.map((f) => [f, secretFields[f]])), `${machine} read exactly ${fields}`);
    const url = env.SIKKERKEY_URL ?? assert.fail('the walkthrough exports no SIKKERKEY_URL');
    const opKey = join(dir, env.SIKKERKEY_KEY_FILE ?? assert.fail('the walkthrough exports no SIKKERKEY_KEY_FILE'));
    const machineKey = /--key-file (\S+)/.exec(ran.find((r) => /^sikkerkey-agent init /.test(r.command))?.command ?? '')?.[1] ?? assert.fail('no sikkerkey-agent init --key-file');
    const asKey = (keyFile, extra = []) => runBin('sikkerkey-agent', ['get', project, secret, ...extra], { env: { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: keyFile }, cwd: dir });
    for (const field of grantedNames)
        assert.equal((await asKey(join(dir, machineKey), ['--field', field])).stdout, `${secretFields[field]}\n`);
    for (const field of ungranted) {
        const notGranted = await asKey(join(dir, machineKey), ['--field', field]);
        assert.notEqual(notGranted.code, 0);
        assert.match(notGranted.stderr, /^error SK_ERR_NOT_FOUND: /, `the ungranted field ${field}`);
    }
    // The operator's key cannot read values: the read route looks callers up among machines only.
    const asOperator = await asKey(opKey);
    assert.notEqual(asOperator.code, 0);
    assert.match(asOperator.stderr, /^error SK_ERR_SIGNATURE_UNKNOWN_KEY: /);
    // An unknown key cannot read either.
    const strangerKey = join(dir, 'stranger.key');
    jsonOf(await runBin('sikkerkey-agent', ['init', '--key-file', strangerKey, '--json']));
    const stranger = await asKey(strangerKey);
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /^error SK_ERR_SIGNATURE_UNKNOWN_KEY: /);
    // The reads are in the audit chain, which verifies.
    const verify = jsonOf(await runBin('sikkerkey', ['audit', 'verify', '--json'], { env: { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey } }));
    assert.equal(verify.ok, true);
    assert.ok(verify.events >= 6, `only ${verify.events} events`);
    // The server's log never carries a value of the secret (the fields nobody was granted included;
    // values too short to be told from ordinary words, like a user name "app", are not searched).
    const searched = Object.values(secretFields).filter((value) => value.length >= 6);
    assert.ok(searched.length > 0, 'the secret has a value distinctive enough to search the log for');
    for (const value of searched)
        assert.equal(vault.output().includes(value), false, 'a secret value reached the vault log');
});
//# sourceMappingURL=readme-walkthrough.test.js.map
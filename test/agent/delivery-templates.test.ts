// Template configuration is checked once, at load, with errors that say what to write instead;
// and the escaping functions produce what each format's own grammar asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTemplates } from '../../agent/delivery/templates.js';
import { propertiesEscape, shellQuote, yamlQuote } from '../../agent/delivery/render-formats.js';
import { parseOnChange } from '../../agent/delivery/exec.js';
import { envNameOfField } from '../../agent/delivery/secret-refs.js';

const ok = { destination: '/run/app/db.env', format: 'env', secrets: { DB_PASSWORD: 'shop/db#password' } };
const refuses = (raw: unknown, re: RegExp, uid = 1000): void => {
  assert.throws(() => parseTemplates(raw, '/', uid), (err: { code?: string; message?: string }) => err.code === 'SK_ERR_CONFIG' && re.test(err.message ?? ''));
};

test('a template with owner is refused unless the agent runs as root', () => {
  refuses([{ ...ok, owner: 'app' }], /only an agent running as root can give a file to another user/);
  const t = parseTemplates([{ ...ok, owner: '0:0' }], '/', 0);
  assert.deepEqual(t[0]?.owner, { uid: 0, gid: 0, text: '0:0' });
});

test('template settings are checked: unknown keys, formats, modes open to others, variable names, raw with two values, relative destinations', () => {
  refuses([{ ...ok, destinaton: '/x' }], /unknown setting templates\[0\]\.destinaton: did you mean templates\[0\]\.destination\?/);
  refuses([{ ...ok, format: 'toml' }], /format must be one of env, dotenv, json, yaml, properties, raw/);
  refuses([{ ...ok, mode: '0644' }], /lets every user of the machine read/);
  refuses([{ ...ok, mode: 600 }], /octal string such as "0600"/);
  refuses([{ ...ok, secrets: { 'DB-PASSWORD': 'shop/db#password' } }], /is not a variable name/);
  refuses([{ ...ok, format: 'raw', secrets: { a: 'shop/db#a', b: 'shop/db#b' } }], /a raw template holds one value/);
  refuses([{ ...ok, destination: 'db.env' }], /destination must be an absolute file path/);
  refuses([{ ...ok, secrets: { DB: 'shop' } }], /is not project\/secret or project\/secret#field/);
  refuses([ok, ok], /is the destination of an earlier template too/);
  refuses([{ ...ok, source: 'x.tpl' }], /exactly one of secrets .* and source/);
  assert.equal(parseTemplates([ok], '/', 1000)[0]?.mode, 0o600, 'mode defaults to 0600');
});

test('a source template is read at load and must hold a placeholder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-tpl-'));
  try {
    writeFileSync(join(dir, 'none.tpl'), 'plain: text\n');
    writeFileSync(join(dir, 'app.tpl'), 'password: {{shop/db#password}}\n');
    assert.throws(() => parseTemplates([{ destination: '/x', format: 'yaml', source: 'none.tpl' }], dir, 1000), /no \{\{project/);
    const [t] = parseTemplates([{ destination: '/x', format: 'yaml', source: 'app.tpl' }], dir, 1000);
    assert.deepEqual(t?.source?.refs, [{ project: 'shop', secret: 'db', field: 'password' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('escaping: sh single quotes, YAML double-quoted escapes, java.util.Properties escapes', () => {
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  assert.equal(yamlQuote('a"b\\c\nd\u2028\u0007'), '"a\\"b\\\\c\\nd\\u2028\\u0007"');
  assert.equal(propertiesEscape(' a=b:c#d!e\\f\ng ø'), '\\ a\\=b\\:c\\#d\\!e\\\\f\\ng\\ \\u00f8');
});

test('exec options: --on-change forms and --env-file-secret variable names', () => {
  assert.deepEqual(parseOnChange('signal:HUP'), { kind: 'signal', signal: 'SIGHUP' });
  assert.deepEqual(parseOnChange('signal:SIGUSR2'), { kind: 'signal', signal: 'SIGUSR2' });
  assert.deepEqual(parseOnChange('restart'), { kind: 'restart' });
  assert.throws(() => parseOnChange('signal:KILL'), { code: 'SK_ERR_USAGE' });
  assert.throws(() => parseOnChange('reload'), { code: 'SK_ERR_USAGE' });
  assert.equal(envNameOfField('db-host.name'), 'DB_HOST_NAME');
});

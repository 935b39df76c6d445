// Template configuration is checked once, at load, with errors that say what to write instead;
// and the escaping functions produce what each format's own grammar asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateSet, parseTemplates } from '../../agent/delivery/templates.js';
import { writeFileAtomic } from '../../agent/delivery/atomic-file.js';
import type { SecretValue } from '../../protocol/client.js';
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

const db = (fields: Record<string, string>): ReadonlyMap<string, SecretValue> => new Map([['shop/db', { project: 'shop', name: 'db', version: 1, fields }]]);
const lines = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

test('a template that cannot be rendered fails the render before any file is written, so no command is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-tpl-'));
  try {
    const marker = join(dir, 'reloads');
    const set = new TemplateSet(parseTemplates([
      { destination: join(dir, 'db.env'), format: 'env', secrets: { DB_PASSWORD: 'shop/db#password' }, command: `echo reload >> ${shellQuote(marker)}` },
      { destination: join(dir, 'user.env'), format: 'env', secrets: { DB_USER: 'shop/db#username' } },
    ], '/', 1000), () => {});
    await set.render(db({ password: 'p1', username: 'u' }));
    assert.equal(lines(marker), 1, 'the first render runs the command');
    // A rotation drops the field the second template uses: that render fails…
    await assert.rejects(set.render(db({ password: 'p2' })), { code: 'SK_ERR_NOT_FOUND' });
    assert.match(readFileSync(join(dir, 'db.env'), 'utf8'), /p1/, 'the first file is not changed by a render that fails');
    assert.equal(lines(marker), 1);
    // …and once it renders, the first file changes and its command runs.
    await set.render(db({ password: 'p2', username: 'u' }));
    assert.match(readFileSync(join(dir, 'db.env'), 'utf8'), /p2/);
    assert.equal(lines(marker), 2, 'the command of the file changed runs once the render succeeds');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write that fails midway still runs the commands of the files already written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-tpl-'));
  try {
    const marker = join(dir, 'reloads');
    const set = new TemplateSet(parseTemplates([
      { destination: join(dir, 'db.env'), format: 'env', secrets: { DB_PASSWORD: 'shop/db#password' }, command: `echo reload >> ${shellQuote(marker)}` },
      { destination: join(dir, 'missing', 'user.env'), format: 'env', secrets: { DB_USER: 'shop/db#username' } },
    ], '/', 1000), () => {});
    await assert.rejects(set.render(db({ password: 'p1', username: 'u' })), { code: 'SK_ERR_TEMPLATE_WRITE' });
    assert.match(readFileSync(join(dir, 'db.env'), 'utf8'), /p1/);
    assert.equal(lines(marker), 1, 'the written file\'s command ran although a later write failed');
    await assert.rejects(set.render(db({ password: 'p1', username: 'u' })), { code: 'SK_ERR_TEMPLATE_WRITE' });
    assert.equal(lines(marker), 1, 'and not again for the unchanged file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a temporary file a crashed writer left beside a destination is removed by the next write, nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-atomic-'));
  try {
    const dest = join(dir, 'db.env');
    const stale = join(dir, '.db.env.sk-0123456789ab.tmp');
    const keep = ['other.txt', '.db.env2.sk-0123456789ab.tmp', '.db.sk-0123456789ab.tmp', '.db.env.sk-0123456789ab.tmp.bak', '.db.env.sk-xyz.tmp', 'db.env.sk-0123456789ab.tmp'];
    for (const f of [stale, ...keep.map((f) => join(dir, f))]) writeFileSync(f, 'DB_PASSWORD=old\n', { mode: 0o600 });
    const outside = mkdtempSync(join(tmpdir(), 'sk-atomic-target-'));
    writeFileSync(join(outside, 'target'), 'not ours');
    symlinkSync(join(outside, 'target'), join(dir, '.db.env.sk-aaaaaaaaaaaa.tmp'));
    try {
      writeFileAtomic(dest, 'DB_PASSWORD=new\n', { mode: 0o600 });
      assert.equal(readFileSync(dest, 'utf8'), 'DB_PASSWORD=new\n');
      assert.equal(existsSync(stale), false, 'the stale temporary file of the destination is removed');
      for (const f of keep) assert.equal(existsSync(join(dir, f)), true, `${f} is left alone`);
      assert.equal(readFileSync(join(outside, 'target'), 'utf8'), 'not ours', 'a symlink is not followed');
      assert.deepEqual(readdirSync(dir).sort(), [...keep, '.db.env.sk-aaaaaaaaaaaa.tmp', 'db.env'].sort());

      // A template whose file needs no write cleans its destination too (the agent's first render).
      const set = new TemplateSet(parseTemplates([{ destination: dest, format: 'env', secrets: { DB_PASSWORD: 'shop/db#password' } }], '/', 1000), () => {});
      await set.render(db({ password: 'new' }));
      writeFileSync(stale, 'DB_PASSWORD=old\n', { mode: 0o600 });
      const before = readFileSync(dest, 'utf8');
      const log: string[] = [];
      await new TemplateSet(parseTemplates([{ destination: dest, format: 'env', secrets: { DB_PASSWORD: 'shop/db#password' } }], '/', 1000), (m) => log.push(m)).render(db({ password: 'new' }));
      assert.match(log.join('\n'), /is unchanged/);
      assert.equal(readFileSync(dest, 'utf8'), before, 'the file was unchanged');
      assert.equal(existsSync(stale), false, 'an unchanged template removes its stale temporary file');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

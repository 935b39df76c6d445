// The dashboard's static files at /ui/ (http/ui-static.ts), served from a real directory by a
// vault over a real SQLite store (static serving reads no table: one store is enough): content
// types, index.html for client-side routes, the headers on every answer, cache policy, 404 for
// missing files, no way out of the directory (encoded dots, a symbolic link, a sibling directory
// sharing the prefix — also over a real socket, where nothing normalises the path), and a clear
// error when the UI was never built. The routes are outside the OpenAPI document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openStore } from '../../vault-server/store/open-store.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { UI_CSP, uiFileFor } from '../../vault-server/http/ui-static.js';
import { tempDataDir } from '../support/stores.js';
import { codeOf } from '../support/enrollment.js';

const INDEX = '<!doctype html><title>SikkerKey</title><script type="module" src="/ui/app-3FJ7QK2M.js"></script>';
const SECRET_OUTSIDE = 'outside-the-ui-directory';

let parent: string;
let uiDir: string;
let v: TestVault;
let bare: TestVault;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  parent = await mkdtemp(join(tmpdir(), 'sk-ui-'));
  uiDir = join(parent, 'ui');
  await mkdir(join(uiDir, 'assets'), { recursive: true });
  await writeFile(join(uiDir, 'index.html'), INDEX);
  await writeFile(join(uiDir, 'app-3FJ7QK2M.js'), 'console.log("app")');
  await writeFile(join(uiDir, 'app-3FJ7QK2M.css'), 'body{color:black}');
  await writeFile(join(uiDir, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(uiDir, 'favicon.ico'), Buffer.from([0, 0, 1, 0]));
  await writeFile(join(uiDir, 'odd.qqq'), 'x');
  await writeFile(join(parent, 'secret.txt'), SECRET_OUTSIDE);
  await mkdir(join(parent, 'ui-sibling'));
  await writeFile(join(parent, 'ui-sibling', 'x.txt'), SECRET_OUTSIDE);
  await symlink(join(parent, 'secret.txt'), join(uiDir, 'link.txt'));
  const d1 = await tempDataDir();
  const d2 = await tempDataDir();
  cleanups.push(d1.remove, d2.remove);
  v = await startTestVault(await openStore(d1.location), { uiDir });
  bare = await startTestVault(await openStore(d2.location), { uiDir: join(parent, 'never-built') });
});

after(async () => {
  await v.close();
  await bare.close();
  for (const c of cleanups) await c();
  await rm(parent, { recursive: true, force: true });
});

function assertUiHeaders(headers: Record<string, unknown>, what: string): void {
  assert.equal(headers['content-security-policy'], UI_CSP, `${what}: CSP`);
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.equal(headers['referrer-policy'], 'no-referrer', what);
  assert.equal(headers['cross-origin-opener-policy'], 'same-origin', what);
}

test('GET /ui/ and every path without an extension answer index.html, uncached, with the strict headers', async () => {
  for (const path of ['/ui/', '/ui/accept', '/ui/projects/shop/secrets/db', '/ui/accept?token=abc', '/ui/machines/']) {
    const res = await v.send('GET', path, {});
    assert.equal(res.status, 200, `${path}: ${res.raw}`);
    assert.equal(res.raw, INDEX, path);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8', path);
    assert.equal(res.headers['cache-control'], 'no-cache', path);
    assertUiHeaders(res.headers, path);
  }
  assert.match(UI_CSP, /script-src 'self';/);
  assert.doesNotMatch(UI_CSP, /unsafe-inline|unsafe-eval|\*/);
});

test('assets answer with their content type; hashed names are cached for a year, others revalidated', async () => {
  const cases: Array<[string, string, string]> = [
    ['/ui/app-3FJ7QK2M.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/ui/app-3FJ7QK2M.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/ui/assets/logo.svg', 'image/svg+xml', 'no-cache'],
    ['/ui/favicon.ico', 'image/x-icon', 'no-cache'],
    ['/ui/odd.qqq', 'application/octet-stream', 'no-cache'],
  ];
  for (const [path, type, cache] of cases) {
    const res = await v.send('GET', path, {});
    assert.equal(res.status, 200, `${path}: ${res.raw}`);
    assert.equal(res.headers['content-type'], type, path);
    assert.equal(res.headers['cache-control'], cache, path);
    assertUiHeaders(res.headers, path);
  }
  const head = await v.send('HEAD', '/ui/app-3FJ7QK2M.js', {});
  assert.equal(head.status, 200);
  assert.equal(head.raw, '');
});

test('a missing asset is 404 SK_ERR_NOT_FOUND in the error shape, still with the strict headers', async () => {
  const res = await v.send('GET', '/ui/app-MISSING1.js', {});
  assert.equal(res.status, 404);
  assert.equal(codeOf(res), 'SK_ERR_NOT_FOUND');
  assertUiHeaders(res.headers, 'a 404');
  const dir = await v.send('GET', '/ui/assets.d/x.css', {});
  assert.equal(dir.status, 404);
});

test('no path leads out of the directory (encoded dots, backslashes, hidden names, a symbolic link)', async () => {
  for (const path of ['/ui/%2e%2e/secret.txt', '/ui/..%2fsecret.txt', '/ui/assets/%2e%2e/%2e%2e/secret.txt', '/ui/..%5csecret.txt',
    '/ui/%2e%2e/ui-sibling/x.txt', '/ui/.%2e/secret.txt', '/ui/link.txt', '/ui/.hidden.txt', '/ui/a//b.txt', '/ui/x%00.js']) {
    const res = await v.send('GET', path, {});
    assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
    assert.ok(!res.raw.includes(SECRET_OUTSIDE), `${path} answered a file outside the UI directory`);
    assert.ok(codeOf(res)?.startsWith('SK_ERR_'), `${path}: ${res.raw}`);
  }
  assert.equal(uiFileFor('../secret.txt'), undefined);
  assert.equal(uiFileFor('assets/../../x.js'), undefined);
  assert.equal(uiFileFor('projects/shop'), 'index.html');
  assert.equal(uiFileFor('assets/logo.svg'), 'assets/logo.svg');
});

test('over a real socket, raw ../ in the request target does not leave the directory either', async () => {
  await v.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = v.app.server.address() as AddressInfo;
  for (const path of ['/ui/../secret.txt', '/ui/../../secret.txt', '/ui/assets/../../secret.txt', '/ui/../ui-sibling/x.txt']) {
    const got = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host: 'vault.test:8200' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.ok(got.status >= 400 && got.status < 500, `${path}: ${got.status}`);
    assert.ok(!got.body.includes(SECRET_OUTSIDE), `${path} answered a file outside the UI directory`);
  }
});

test('GET / and GET /ui redirect to /ui/', async () => {
  for (const path of ['/', '/ui']) {
    const res = await v.send('GET', path, {});
    assert.equal(res.status, 302, path);
    assert.equal(res.headers['location'], '/ui/', path);
  }
});

test('without a built UI, /ui/ says how to build it (404 SK_ERR_UI_NOT_BUILT); a missing asset stays 404', async () => {
  const res = await bare.send('GET', '/ui/', {});
  assert.equal(res.status, 404);
  assert.equal(codeOf(res), 'SK_ERR_UI_NOT_BUILT');
  assert.match(res.raw, /npm run build/);
  assert.match(res.raw, /index\.html/);
  assertUiHeaders(res.headers, 'not built');
  assert.equal(codeOf(await bare.send('GET', '/ui/accept', {})), 'SK_ERR_UI_NOT_BUILT');
  assert.equal((await bare.send('GET', '/ui/app-X1234567.js', {})).status, 404);
});

test('the /ui routes are not in the OpenAPI document; the API routes still are', async () => {
  const doc = (await v.send('GET', '/v1/openapi.json', {})).body as { paths: Record<string, unknown> };
  assert.ok(doc.paths['/v1/projects'], 'API routes are documented');
  assert.deepEqual(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/ui')), []);
});

/**
 * The dashboard's static files (issue 29) at `/ui/`: the browser pages esbuild writes into
 * `dist/ui/` (scripts/build-ui.mjs), served unauthenticated — the pages hold no data; every API
 * call they make is signed by the browser's own key like any other client's.
 *
 * - `GET /ui/` and every path without a file extension (`/ui/accept`, `/ui/projects/shop`: the
 *   pages' client-side routes) answer `index.html`; `GET /ui/<file>` answers that file with its
 *   content type; `GET /ui` and `GET /` redirect to `/ui/`.
 * - A missing file is `404 SK_ERR_NOT_FOUND`; a path with `..`, `.`, a backslash, NUL or an empty
 *   segment is refused the same way before the file system is asked, and a symbolic link that
 *   leads out of the directory is not followed (the resolved path must stay inside it).
 * - No `index.html` (the UI was never built): `404 SK_ERR_UI_NOT_BUILT`, naming how to build it
 *   (404, not 503: the vault itself is fine, and nothing a client retries will bring the file).
 * - Every answer under `/ui` (errors too) carries a strict Content-Security-Policy (no inline
 *   script or style, no third-party origin), `X-Content-Type-Options: nosniff`,
 *   `Referrer-Policy: no-referrer` and `Cross-Origin-Opener-Policy: same-origin`.
 * - `Cache-Control`: `no-cache` for `index.html` and any unhashed file (revalidated, so a new
 *   build is picked up at once); a year, immutable, for hashed names (`app-3FJ7QK2M.js`).
 *
 * These routes are left out of the OpenAPI document (`openApi: false`): they are not API — they
 * answer HTML and assets, not JSON — and a generated client has no use for them.
 *
 * @example
 *   uiRoutes(app, { dir: defaultUiDir() });   // in the composition root
 *   // GET /ui/          → 200 text/html (index.html), cache-control: no-cache
 *   // GET /ui/app-X.js  → 200 text/javascript, cache-control: public, max-age=31536000, immutable
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';

export const UI_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Sent with every answer under `/ui`. */
export const UI_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** esbuild's `[name]-[hash]` asset names: 8 or more base32 characters before the extension. */
const HASHED = /-[A-Z0-9]{8,}\.[a-z0-9]+$/;
const LONG_CACHE = 'public, max-age=31536000, immutable';
const BUILD_HINT = 'run `npm run build` (its UI step, scripts/build-ui.mjs, writes dist/ui/)';

/** `dist/ui/` beside the compiled vault (this module is dist/vault-server/http/ui-static.js). */
export function defaultUiDir(): string {
  return fileURLToPath(new URL('../../ui/', import.meta.url));
}

export interface UiRoutesOptions {
  /** The directory holding `index.html` and the assets (default: defaultUiDir()). */
  dir?: string;
}

const notFound = (path: string): SikkerKeyError => new SikkerKeyError('SK_ERR_NOT_FOUND', `no dashboard file ${path}`);

/**
 * The file a `/ui/` path names, relative to the UI directory, or undefined when the path is not
 * one a build could have written (traversal, hidden names, odd characters). `index.html` for a
 * path whose last segment has no extension.
 */
export function uiFileFor(rest: string): string | undefined {
  if (rest === '' || rest.endsWith('/')) return 'index.html';
  if (/[\\\0]/.test(rest)) return undefined;
  const segments = rest.split('/');
  for (const seg of segments) {
    if (seg === '' || seg === '.' || seg === '..' || seg.startsWith('.')) return undefined;
  }
  const last = segments[segments.length - 1] as string;
  return extname(last) === '' ? 'index.html' : rest;
}

export function uiRoutes(app: FastifyInstance, opts: UiRoutesOptions = {}): void {
  const root = resolve(opts.dir ?? defaultUiDir());
  const config = { auth: 'none', returnsValues: false, openApi: false } as const;

  const send = async (reply: FastifyReply, file: string, shown: string): Promise<FastifyReply> => {
    const path = resolve(join(root, file));
    if (path !== root && !path.startsWith(root + sep)) throw notFound(shown);
    let body: Buffer;
    try {
      // A symbolic link inside the directory must not lead out of it.
      const real = await realpath(path);
      const realRoot = await realpath(root);
      if (!real.startsWith(realRoot + sep)) throw notFound(shown);
      if (!(await stat(real)).isFile()) throw notFound(shown);
      body = await readFile(real);
    } catch (err) {
      if (err instanceof SikkerKeyError) throw err;
      if (file === 'index.html') {
        throw new SikkerKeyError('SK_ERR_UI_NOT_BUILT', `the dashboard is not built: index.html is missing from the vault's UI directory; ${BUILD_HINT}`);
      }
      throw notFound(shown);
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    return reply
      .header('content-type', type)
      .header('cache-control', file !== 'index.html' && HASHED.test(file) ? LONG_CACHE : 'no-cache')
      .send(body);
  };

  // Its own encapsulated context, so the headers hook applies to these routes only — to their
  // error answers too (a refusal from a hook before the handler still passes onSend).
  void app.register(async (ui) => {
    ui.addHook('onSend', async (_request, reply, payload) => {
      void reply.headers(UI_HEADERS);
      return payload;
    });
    ui.get('/', { config }, async (_req, reply) => reply.redirect('/ui/', 302));
    ui.get('/ui', { config }, async (_req, reply) => reply.redirect('/ui/', 302));
    ui.get('/ui/', { config }, async (_req, reply) => send(reply, 'index.html', '/ui/'));
    ui.get('/ui/*', { config }, async (req, reply) => {
      const rest = (req.params as { '*': string })['*'];
      const file = uiFileFor(rest);
      if (file === undefined) throw notFound(`/ui/${rest}`);
      return send(reply, file, `/ui/${rest}`);
    });
  });
}

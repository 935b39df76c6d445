/**
 * Templates: files the agent renders from secrets and keeps current (agent config `templates:`).
 * Each is written atomically with its mode and owner, re-rendered on every promotion of a secret
 * it uses, and its `command` (e.g. `systemctl reload app`) runs once after every render that
 * changed the file's content — the first render too, when the file was absent or held something
 * else — and never after one that left it as it was (a restart of the agent, a rotation of a
 * field the template does not use). Vault Agent and consul-template behave the same way.
 *
 * There is no template language: `secrets:` maps keys to `project/secret#field` and the agent
 * writes the whole document in the format; `source:` is a file in the format whose only dynamic
 * parts are `{{project/secret#field}}` placeholders, each replaced by the value as one complete,
 * escaped scalar of the format (render-formats.ts). Logic stays in the application's own config.
 *
 * @example
 *   templates:
 *     - destination: /run/app/db.env
 *       format: env
 *       secrets: { DB_USER: shop/db#username, DB_PASSWORD: shop/db#password }
 *       mode: "0600"
 *       command: systemctl reload app
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { SecretValue } from '../../protocol/client.js';
import { nearest } from '../../protocol/config-keys.js';
import { removeStaleTemps, writeFileAtomic } from './atomic-file.js';
import { FORMATS, checkKey, renderDocument, scalar } from './render-formats.js';
import type { TemplateFormat } from './render-formats.js';
import { parseSecretRef, secretKey, valueOf } from './secret-refs.js';
import type { SecretKey, SecretRef } from './secret-refs.js';
import type { DeliveryLog } from './secret-follower.js';
import type { RenderedFiles } from './exec.js';

export interface TemplateConfig {
  readonly destination: string;
  readonly format: TemplateFormat;
  /** Key → reference, in the order given (`secrets:`); empty with `source`. */
  readonly secrets: ReadonlyArray<readonly [string, SecretRef]>;
  /** The source file's text (read at config load) with its placeholders. */
  readonly source: { readonly file: string; readonly text: string; readonly refs: readonly SecretRef[] } | undefined;
  readonly mode: number;
  readonly owner: { readonly uid: number; readonly gid: number | undefined; readonly text: string } | undefined;
  /** Run with /bin/sh -c after each render that changed the file's content (the first one included). */
  readonly command: string | undefined;
}

const KEYS = ['destination', 'format', 'secrets', 'source', 'mode', 'owner', 'command'] as const;
const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

function fail(message: string): never {
  throw new SikkerKeyError('SK_ERR_CONFIG', message);
}

/** Reads `NAME` or a number from /etc/passwd or /etc/group (Node has no getpwnam). */
function lookupId(file: string, name: string, what: string, where: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    fail(`${where}: cannot read ${file} to find ${what} ${JSON.stringify(name)}; give a number`);
  }
  for (const line of text.split('\n')) {
    const [n, , id] = line.split(':');
    if (n === name && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  fail(`${where}: no ${what} ${JSON.stringify(name)} in ${file}`);
}

/**
 * Validates `templates:` from the agent config; `baseDir` is the config file's directory (a
 * relative `source` is read from there). `uid` is the agent's own (an `owner` needs root).
 */
export function parseTemplates(raw: unknown, baseDir: string, uid: number = process.getuid?.() ?? -1): readonly TemplateConfig[] {
  if (raw === undefined) return Object.freeze([]);
  if (!Array.isArray(raw)) fail('templates must be a list of { destination, format, secrets | source, mode, owner, command }');
  const seen = new Set<string>();
  return Object.freeze(raw.map((t: unknown, i): TemplateConfig => {
    const where = `templates[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) fail(`${where} must be an object`);
    const o = t as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!(KEYS as readonly string[]).includes(k)) fail(`unknown setting ${where}.${k}: did you mean ${where}.${nearest(k, KEYS)}?`);
    const destination = o.destination;
    if (typeof destination !== 'string' || !isAbsolute(destination)) fail(`${where}.destination must be an absolute file path`);
    if (seen.has(destination)) fail(`${where}.destination ${destination} is the destination of an earlier template too`);
    seen.add(destination);
    if (typeof o.format !== 'string' || !(FORMATS as readonly string[]).includes(o.format)) fail(`${where}.format must be one of ${FORMATS.join(', ')}`);
    const format = o.format as TemplateFormat;
    if ((o.secrets === undefined) === (o.source === undefined)) fail(`${where}: give exactly one of secrets (a map of key: project/secret#field) and source (a file with {{project/secret#field}} placeholders)`);
    let secrets: Array<readonly [string, SecretRef]> = [];
    let source: TemplateConfig['source'];
    if (o.secrets !== undefined) {
      if (typeof o.secrets !== 'object' || o.secrets === null || Array.isArray(o.secrets)) fail(`${where}.secrets must be a map of key: project/secret#field`);
      secrets = Object.entries(o.secrets as Record<string, unknown>).map(([k, v]) => {
        if (typeof v !== 'string') fail(`${where}.secrets.${k} must be a string project/secret#field`);
        const bad = format === 'raw' ? undefined : checkKey(format, k);
        if (bad !== undefined) fail(`${where}.secrets: ${bad}`);
        return [k, parseSecretRef(v, `${where}.secrets.${k}`, 'SK_ERR_CONFIG')] as const;
      });
      if (secrets.length === 0) fail(`${where}.secrets is empty`);
      if (format === 'raw' && secrets.length !== 1) fail(`${where}: a raw template holds one value: give secrets with exactly one entry, or source`);
    } else {
      if (typeof o.source !== 'string' || o.source.length === 0) fail(`${where}.source must be a file path`);
      const file = resolve(baseDir, o.source);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        fail(`${where}.source: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const refs = [...text.matchAll(PLACEHOLDER)].map((m) => parseSecretRef(m[1] as string, `${where}.source ${file}`, 'SK_ERR_CONFIG'));
      if (refs.length === 0) fail(`${where}.source ${file} has no {{project/secret#field}} placeholder`);
      source = Object.freeze({ file, text, refs: Object.freeze(refs) });
    }
    const modeText = o.mode ?? '0600';
    if (typeof modeText !== 'string' || !/^0?[0-7]{3}$/.test(modeText)) fail(`${where}.mode must be an octal string such as "0600" (quoted, so YAML does not read it as a number)`);
    const mode = parseInt(modeText, 8);
    if ((mode & 0o007) !== 0) fail(`${where}.mode ${modeText} lets every user of the machine read or write the secret: drop the last digit to 0`);
    let owner: TemplateConfig['owner'];
    if (o.owner !== undefined) {
      if (typeof o.owner !== 'string' || !/^[^:\s]+(:[^:\s]+)?$/.test(o.owner)) fail(`${where}.owner must be USER or USER:GROUP (names or numbers)`);
      if (uid !== 0) fail(`${where}.owner ${o.owner}: only an agent running as root can give a file to another user; remove owner, or run the agent as the user who should own the file`);
      const [u, g] = o.owner.split(':') as [string, string | undefined];
      owner = Object.freeze({ uid: lookupId('/etc/passwd', u, 'user', where), gid: g === undefined ? undefined : lookupId('/etc/group', g, 'group', where), text: o.owner });
    }
    if (o.command !== undefined && (typeof o.command !== 'string' || o.command.trim() === '')) fail(`${where}.command must be a shell command line`);
    return Object.freeze({ destination, format, secrets: Object.freeze(secrets), source, mode, owner, command: o.command as string | undefined });
  }));
}

/** The references a template reads. */
function refsOf(t: TemplateConfig): readonly SecretRef[] {
  return t.source?.refs ?? t.secrets.map(([, r]) => r);
}

/** What is at a destination now (undefined: nothing readable), to tell whether a render changes it. */
function fileState(path: string): { text: string; mode: number; uid: number; gid: number } | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return undefined;
    return { text: readFileSync(path, 'utf8'), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    return undefined;
  }
}

/** The file's text from the values read; refuses a field the machine cannot read. */
export function renderTemplate(t: TemplateConfig, values: ReadonlyMap<SecretKey, SecretValue>): string {
  const value = (ref: SecretRef): string => {
    const read = values.get(secretKey(ref));
    if (read === undefined) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `${secretKey(ref)} was not read`);
    return valueOf(ref, read);
  };
  if (t.source !== undefined) {
    return t.source.text.replace(PLACEHOLDER, (_m, text: string) => scalar(t.format, value(parseSecretRef(text, t.source?.file ?? 'source', 'SK_ERR_CONFIG'))));
  }
  return renderDocument(t.format, t.secrets.map(([k, ref]) => [k, value(ref)] as const));
}

/**
 * The templates of one agent, rendered together: everything at start, then on each new version
 * the templates that use it; each file whose content changed is followed by its command, once.
 */
export class TemplateSet implements RenderedFiles {
  readonly keys: readonly SecretKey[];

  constructor(private readonly templates: readonly TemplateConfig[], private readonly log: DeliveryLog) {
    this.keys = [...new Set(templates.flatMap((t) => refsOf(t).map(secretKey)))];
  }

  get size(): number {
    return this.templates.length;
  }

  async render(values: ReadonlyMap<SecretKey, SecretValue>, changed?: SecretKey): Promise<void> {
    const chosen = changed === undefined ? this.templates : this.templates.filter((t) => refsOf(t).some((r) => secretKey(r) === changed));
    // Every text first: a template that cannot be rendered (a field no longer granted) fails the
    // render before any file is written, so nothing has changed and no command is owed. Then every
    // file, then the commands: a reload sees all of the new files at once. A write that fails
    // midway (a missing directory) still runs the commands of the files already written (finally):
    // the next render finds those unchanged and would never run them.
    const texts = chosen.map((t) => [t, renderTemplate(t, values)] as const);
    const changedFiles: TemplateConfig[] = [];
    try {
      for (const [t, text] of texts) {
        const now = fileState(t.destination);
        const sameContent = now?.text === text;
        if (sameContent && now.mode === t.mode && (t.owner === undefined || (now.uid === t.owner.uid && (t.owner.gid === undefined || now.gid === t.owner.gid)))) {
          // Not written, so clean here what a writer that crashed mid-write left (a write does it itself).
          removeStaleTemps(t.destination);
          this.log(`${t.destination} is unchanged: not rewritten, no command`);
          continue;
        }
        try {
          writeFileAtomic(t.destination, text, { mode: t.mode, ...(t.owner ? { uid: t.owner.uid, ...(t.owner.gid === undefined ? {} : { gid: t.owner.gid }) } : {}) });
        } catch (err) {
          throw new SikkerKeyError('SK_ERR_TEMPLATE_WRITE', `cannot write ${t.destination} (${(err as NodeJS.ErrnoException).code ?? 'error'}): does ${dirname(t.destination)} exist and may the agent write there?`, { cause: err });
        }
        this.log(`rendered ${t.destination} (${t.format}, mode ${t.mode.toString(8).padStart(4, '0')})`);
        if (!sameContent) changedFiles.push(t);
      }
    } finally {
      for (const t of changedFiles) if (t.command !== undefined) await this.runCommand(t);
    }
  }

  private runCommand(t: TemplateConfig): Promise<void> {
    return new Promise((done) => {
      const c = spawn('/bin/sh', ['-c', t.command as string], { stdio: ['ignore', 'inherit', 'inherit'] });
      c.on('error', (err) => { this.log(`command for ${t.destination} could not start: ${err.message}`); done(); });
      c.on('exit', (code, signal) => {
        if (code === 0) this.log(`command for ${t.destination} ran (exit 0)`);
        else this.log(`command for ${t.destination} failed (${code === null ? signal : `exit ${code}`})`);
        done();
      });
    });
  }
}

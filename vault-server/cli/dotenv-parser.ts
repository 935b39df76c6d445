/**
 * Reads the two import formats of `sikkerkey import` into `{name, value}` / `{name, fields}`
 * items. Errors name a line number or a key, never a value: the file is full of secrets, and an
 * error message ends up in terminals, CI logs and bug reports.
 *
 * dotenv, line by line:
 *   KEY=value              unquoted: trimmed; ` #…` (a `#` after whitespace) starts a comment;
 *                          `=` and a `#` inside a word stay part of the value
 *   export KEY=value       the `export ` prefix of shell-sourced files is accepted
 *   KEY='literal'          single quotes: exactly what is inside, newlines included
 *   KEY="a\nb \"q\" \\"    double quotes: `\n`, `\"`, `\\` are escapes (`\r`, `\t` too); real
 *                          newlines inside the quotes are part of the value
 *   # comment, blank lines ignored
 *
 * @example
 *   parseDotenv('DB_URL="postgres://u:p@h/db"\nexport TOKEN=abc # staging\n');
 *   // → [{ name: 'DB_URL', value: 'postgres://u:p@h/db' }, { name: 'TOKEN', value: 'abc' }]
 */
import { SikkerKeyError } from '../../protocol/errors.js';

export type ImportItem = { name: string; value: string } | { name: string; fields: Record<string, string> };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function malformed(source: string, line: number, why: string): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_USAGE', `${source}: line ${line}: ${why}`);
}

export function parseDotenv(text: string, source = 'dotenv'): ImportItem[] {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const items: Array<{ name: string; value: string }> = [];
  const firstLine = new Map<string, number>();
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const eol = src.indexOf('\n', i);
    const end = eol === -1 ? src.length : eol;
    const raw = src.slice(i, end);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = end + 1;
      line += 1;
      continue;
    }
    const start = line;
    const head = /^\s*(?:export\s+)?([A-Za-z0-9_.-]+)\s*=[ \t]*/.exec(raw);
    if (!head) throw malformed(source, start, 'expected KEY=value (a comment line starts with #)');
    const name = head[1] as string;
    let j = i + head[0].length;
    let value: string;
    const quote = src[j];
    if (quote === "'" || quote === '"') {
      let k = j + 1;
      let out = '';
      let closed = false;
      while (k < src.length) {
        const c = src[k] as string;
        if (c === quote) { closed = true; break; }
        if (c === '\n') line += 1;
        if (quote === '"' && c === '\\' && k + 1 < src.length) {
          const next = src[k + 1] as string;
          const mapped = ESCAPES[next];
          if (mapped !== undefined) {
            out += mapped;
          } else {
            // Any other backslash stays as written (`\$`, a Windows path).
            out += c + next;
            if (next === '\n') line += 1;
          }
          k += 2;
          continue;
        }
        out += c;
        k += 1;
      }
      if (!closed) throw malformed(source, start, `the ${quote === '"' ? 'double' : 'single'}-quoted value of ${name} is never closed`);
      value = out;
      j = k + 1;
      const lineEnd = src.indexOf('\n', j);
      const after = src.slice(j, lineEnd === -1 ? src.length : lineEnd);
      if (!/^[ \t]*(?:#.*)?$/.test(after)) throw malformed(source, line, `unexpected text after the closing quote of ${name}`);
      i = lineEnd === -1 ? src.length : lineEnd + 1;
    } else {
      const rest = raw.slice(head[0].length);
      // `KEY=#x` keeps its `#`: only a `#` after whitespace (`KEY= #x`, `KEY=v #x`) starts a comment.
      const comment = rest.startsWith('#') && /[ \t]$/.test(head[0]) ? 0 : (/[ \t]#/.exec(rest)?.index ?? -1);
      value = (comment === -1 ? rest : rest.slice(0, comment)).trim();
      i = end + 1;
    }
    const seen = firstLine.get(name);
    if (seen !== undefined) throw malformed(source, start, `${name} was set already on line ${seen}`);
    firstLine.set(name, start);
    items.push({ name, value });
    line += 1;
  }
  return items;
}

/** `{NAME: "v"}` → a plain secret, `{NAME: {field: "v"}}` → a structured one; every value a string. */
export function parseImportJson(text: string, source = 'json'): ImportItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    // Not the parser's message: it quotes the text around the error, and the text is secrets.
    throw new SikkerKeyError('SK_ERR_USAGE', `${source}: not valid JSON`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new SikkerKeyError('SK_ERR_USAGE', `${source}: expected one JSON object {"NAME": "value" | {"field": "value"}}`);
  const items: ImportItem[] = [];
  for (const [name, v] of Object.entries(doc)) {
    if (typeof v === 'string') {
      items.push({ name, value: v });
    } else if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v as Record<string, unknown>).every((f) => typeof f === 'string')) {
      items.push({ name, fields: v as Record<string, string> });
    } else {
      throw new SikkerKeyError('SK_ERR_USAGE', `${source}: ${JSON.stringify(name)} must be a string or an object whose values are all strings`);
    }
  }
  return items;
}

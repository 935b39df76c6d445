/**
 * How a secret value is written into each file format a template can render, so that the
 * consumer's own parser reads back exactly the value — quotes, `$`, `#`, `=`, backslashes and
 * newlines included. No general template language: a value is only ever placed as one complete,
 * escaped scalar of the format, so there is no context (inside a string or not) to get wrong.
 *
 * @example
 *   renderDocument('yaml', [['password', 'a"b']]) // 'password: "a\\"b"\n'
 */
import { SikkerKeyError } from '../../protocol/errors.js';

export const FORMATS = ['env', 'dotenv', 'json', 'yaml', 'properties', 'raw'] as const;
export type TemplateFormat = (typeof FORMATS)[number];

/**
 * POSIX shell word: single quotes keep everything literal (including newlines); a single quote
 * itself ends the quoting, is escaped, and re-opens it: `'` → `'\''`. Read with `set -a; . FILE`.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll('\'', `'\\''`)}'`;
}

/**
 * python-dotenv's single-quoted value: literal except `\\` and `\'`. Not the same file as `env`:
 * sh has no escape inside single quotes and dotenv does not join `'a'\''b'`, so no one quoting
 * reads back every value in both (dotenv readers also expand `${X}` unless told not to).
 */
export function dotenvQuote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll('\'', '\\\'')}'`;
}

/**
 * A YAML double-quoted scalar (YAML 1.2 §7.3.1): `\` and `"` escaped, every C0/C1 control
 * character, DEL, U+2028/U+2029 (line breaks to a YAML reader) and a BOM as `\uXXXX`; the rest is
 * printable and stays as it is.
 */
export function yamlQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0xd800 && c <= 0xdfff)) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}

/**
 * A java.util.Properties key or value (Properties.load, ISO 8859-1): `\`, `=`, `:`, `#`, `!` and
 * blanks escaped, line breaks as `\n`/`\r`, anything outside printable ASCII as `\uXXXX` (UTF-16
 * units, as Java reads them).
 */
export function propertiesEscape(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const c = value.charCodeAt(i);
    if (ch === '\\' || ch === '=' || ch === ':' || ch === '#' || ch === '!' || ch === ' ') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** One value as a complete scalar of the format (what a `{{project/secret#field}}` placeholder becomes). */
export function scalar(format: TemplateFormat, value: string): string {
  switch (format) {
    case 'env': return shellQuote(value);
    case 'dotenv': return dotenvQuote(value);
    case 'json': return JSON.stringify(value);
    case 'yaml': return yamlQuote(value);
    case 'properties': return propertiesEscape(value);
    case 'raw': return value;
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` may be a key of the format (a shell variable name for env/dotenv). */
export function checkKey(format: TemplateFormat, name: string): string | undefined {
  if ((format === 'env' || format === 'dotenv') && !ENV_NAME.test(name)) return `${JSON.stringify(name)} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)`;
  if (format === 'raw') return 'a raw template holds one value: give source, or secrets with exactly one entry';
  return undefined;
}

/**
 * A whole document from key/value pairs (a template's `secrets:` map), in order. `raw` takes
 * exactly one pair and writes its value alone.
 */
export function renderDocument(format: TemplateFormat, entries: ReadonlyArray<readonly [string, string]>): string {
  switch (format) {
    case 'env':
    case 'dotenv':
      return entries.map(([k, v]) => `${k}=${scalar(format, v)}\n`).join('');
    case 'json':
      return JSON.stringify(Object.fromEntries(entries), null, 2) + '\n';
    case 'yaml':
      return entries.map(([k, v]) => `${yamlQuote(k)}: ${yamlQuote(v)}\n`).join('');
    case 'properties':
      return entries.map(([k, v]) => `${propertiesEscape(k)}=${propertiesEscape(v)}\n`).join('');
    case 'raw': {
      const only = entries[0];
      if (entries.length !== 1 || only === undefined) throw new SikkerKeyError('SK_ERR_CONFIG', 'a raw template holds exactly one value');
      return only[1];
    }
  }
}

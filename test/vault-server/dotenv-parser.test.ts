// `sikkerkey import --from-env`'s reader: what each dotenv form means, and refusals that name the
// line (and the key) but never a value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDotenv, parseImportJson } from '../../vault-server/cli/dotenv-parser.js';
import { SikkerKeyError } from '../../protocol/errors.js';

const values = (text: string): Record<string, string> =>
  Object.fromEntries(parseDotenv(text).map((i) => [i.name, 'value' in i ? i.value : JSON.stringify(i.fields)]));

/** Asserts a usage refusal whose message matches `re` and does not contain `hidden`. */
function refuses(text: string, re: RegExp, hidden: string): void {
  assert.throws(() => parseDotenv(text, '.env'), (err: unknown) => {
    assert.ok(err instanceof SikkerKeyError && err.code === 'SK_ERR_USAGE');
    assert.match(err.message, re);
    assert.equal(err.message.includes(hidden), false, 'the refusal does not quote the value');
    return true;
  });
}

test('reads plain, exported, quoted, escaped, commented and multi-line values', () => {
  assert.deepEqual(values([
    'A=1', 'export B = two words ', "C='x \\n y'", 'D="x\\ty\\r\\n\\"q\\" \\\\ \\$HOME"', 'E=#not-a-comment', 'F= # only a comment',
    'G=v#1 # comment', 'H="multi', 'line"   # after', "I='also", "multi'", 'J=a=b', 'K=', '   # indented comment', '\tL=tabbed',
  ].join('\r\n')), {
    A: '1', B: 'two words', C: 'x \\n y', D: 'x\ty\r\n"q" \\ \\$HOME', E: '#not-a-comment', F: '', G: 'v#1', H: 'multi\nline', I: 'also\nmulti', J: 'a=b', K: '', L: 'tabbed',
  });
  assert.deepEqual(parseDotenv(''), []);
  assert.deepEqual(values('\uFEFFA=bom\n'), { A: 'bom' });
});

test('refuses a malformed line by its number, never echoing the value', () => {
  refuses('A=1\nno equals sign here-secret-1\n', /^\.env: line 2: expected KEY=value/, 'secret-1');
  refuses('A=1\n\nB="unclosed-secret-2\nC=3\n', /^\.env: line 3: the double-quoted value of B is never closed/, 'unclosed-secret-2');
  refuses("A='unclosed-secret-3\n", /^\.env: line 1: the single-quoted value of A is never closed/, 'unclosed-secret-3');
  refuses('A="quoted" trailing-secret-4\n', /^\.env: line 1: unexpected text after the closing quote of A/, 'trailing-secret-4');
  refuses('A="multi\nline" trailing-secret-5\n', /^\.env: line 2: unexpected text/, 'trailing-secret-5');
  refuses('A=one-secret-6\n# c\nA=two-secret-6\n', /^\.env: line 3: A was set already on line 1/, 'secret-6');
  refuses('MY KEY=space-secret-7\n', /line 1: expected KEY=value/, 'space-secret-7');
});

test('reads JSON: strings are plain secrets, objects of strings structured ones; anything else is refused by name', () => {
  assert.deepEqual(parseImportJson('{"A":"1","B":{"u":"x","p":"y"}}'), [{ name: 'A', value: '1' }, { name: 'B', fields: { u: 'x', p: 'y' } }]);
  for (const bad of ['[]', '"x"', 'null', '{"A":["json-secret-8"]}', '{"A":{"f":{"g":"json-secret-8"}}}', '{"A":true}', '{"A": "json-secret-8"']) {
    assert.throws(() => parseImportJson(bad, 'in.json'), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_USAGE' && !err.message.includes('json-secret-8'), bad);
  }
});

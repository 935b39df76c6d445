// The engine table (protocol/engines.ts): its derived lists and refusals, and docs/engines.md kept
// equal to what the table and the agent's undo plans generate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DRIVERS, ENGINES, FLAVOURS, FLAVOUR_NAMES, allowedPairs, compareVersions, describeEngines, engineTableMarkdown, flavoursOf, refusal, strategiesOf } from '../../protocol/engines.js';
import { undoTableMarkdown } from '../../agent/rotation/decide.js';

/** The text between `<!-- generated:NAME -->` and `<!-- /generated -->` in docs/engines.md. */
function generated(doc: string, name: string): string {
  const open = `<!-- generated:${name} -->\n`;
  const at = doc.indexOf(open);
  assert.ok(at !== -1, `docs/engines.md lacks the generated ${name} block`);
  const end = doc.indexOf('\n<!-- /generated -->', at);
  return doc.slice(at + open.length, end);
}

test('docs/engines.md shows the engine table and the undo plans exactly as the code has them', () => {
  const doc = readFileSync('docs/engines.md', 'utf8');
  assert.equal(generated(doc, 'engine-table'), engineTableMarkdown(), 'regenerate the table with engineTableMarkdown()');
  assert.equal(generated(doc, 'undo-table'), undoTableMarkdown(), 'regenerate the table with undoTableMarkdown()');
});

test('provider names, drivers and strategies derive from the flavours', () => {
  assert.deepEqual([...ENGINES], ['postgres', 'supabase', 'mysql', 'redis', 'mongodb']);
  assert.deepEqual([...DRIVERS], ['pg', 'mysql2', 'mongodb']); // Redis: the provider's own RESP2 client
  assert.deepEqual(flavoursOf('mysql').map((f) => f.flavour), ['mysql8', 'mariadb']);
  assert.deepEqual(strategiesOf('mysql'), ['single', 'dual', 'alternating']);
  assert.deepEqual(strategiesOf('postgres'), ['single', 'alternating']);
  assert.ok(allowedPairs().some((p) => p.flavour === 'mysql8' && p.strategy === 'dual'));
  assert.ok(!allowedPairs().some((p) => p.flavour === 'mariadb' && p.strategy === 'dual'));
  for (const f of FLAVOUR_NAMES) {
    for (const s of Object.keys(FLAVOURS[f].refused)) assert.ok(!FLAVOURS[f].strategies.includes(s as never), `${f} both runs and refuses ${s}`);
  }
  assert.match(describeEngines(), /mysql \(MySQL 8: single\|dual\|alternating; MariaDB: single\|alternating\)/);
});

test('refusal: per flavour, per version, and before any preflight per provider', () => {
  assert.equal(refusal({ engine: 'mysql' }, 'dual'), undefined, 'before a preflight, some MySQL runs dual');
  assert.match(refusal({ engine: 'mysql', flavour: 'mariadb', version: '10.11.6' }, 'dual') ?? '', /MariaDB.*alternating/);
  assert.equal(refusal({ engine: 'mysql', flavour: 'mysql8', version: '8.0.36' }, 'dual'), undefined);
  assert.match(refusal({ engine: 'mysql', flavour: 'mysql8', version: 'MySQL 8.0.13' }, 'dual') ?? '', /8\.0\.14.*8\.0\.13/);
  assert.match(refusal({ engine: 'postgres' }, 'dual') ?? '', /PostgreSQL keeps one password/);
  assert.equal(refusal({ engine: 'redis', flavour: 'redis' }, 'dual'), undefined);
  assert.equal(compareVersions('MySQL 8.0.14', '8.0.14'), 0);
  assert.equal(compareVersions('10.11.6-MariaDB', '8.0.14'), 1);
});

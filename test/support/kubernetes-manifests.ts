/**
 * The Kubernetes manifests of one folder (every `*.yaml`, every document in it), parsed as kubectl
 * reads them: YAML 1.1, where `0400` is octal. A document that does not parse fails the test.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest { file: string; doc: { apiVersion?: string; kind?: string } & Record<string, unknown> }

export function readManifests(dir: string): Manifest[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8'), { version: '1.1' }).map((d) => {
      assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      return { file, doc: d.toJSON() as Manifest['doc'] };
    }));
}

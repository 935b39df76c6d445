/**
 * The Kubernetes manifests of one folder (every `*.yaml`, every document in it), parsed as kubectl
 * reads them: YAML 1.1, where `0400` is octal. A document that does not parse fails the test.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';

export interface Manifest { file: string; doc: { apiVersion?: string; kind?: string } & Record<string, unknown> }

export function readManifests(dir: string): Manifest[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8'), { version: '1.1' }).map((d) => {
      assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      return { file, doc: d.toJSON() as Manifest['doc'] };
    }));
}

/**
 * What every pod of ours must be: non-root with RuntimeDefault seccomp and no Kubernetes API token,
 * and each container (init containers too) non-root, read-only root filesystem, no privilege
 * escalation, every capability dropped and none added, not privileged.
 */
export function assertHardenedPod(pod: IPodSpec, what: string): void {
  assert.equal(pod.securityContext?.runAsNonRoot, true, `${what}: runAsNonRoot`);
  assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, `${what}: runAsUser`);
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${what}: seccomp`);
  assert.equal(pod.automountServiceAccountToken, false, `${what}: no Kubernetes API token`);
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const sc = c.securityContext ?? assert.fail(`${c.name}: no securityContext`);
    assert.equal(sc.runAsNonRoot, true, `${c.name} runAsNonRoot`);
    assert.equal(sc.readOnlyRootFilesystem, true, `${c.name} readOnlyRootFilesystem`);
    assert.equal(sc.allowPrivilegeEscalation, false, `${c.name} allowPrivilegeEscalation`);
    assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${c.name} drops all capabilities`);
    assert.equal(sc.capabilities?.add, undefined, `${c.name} adds none`);
    assert.notEqual(sc.privileged, true, `${c.name} privileged`);
  }
}

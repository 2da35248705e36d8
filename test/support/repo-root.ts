import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The checkout's root, whether a spec runs from its source (tsx) or from dist/ (compiled). */
export function repoRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

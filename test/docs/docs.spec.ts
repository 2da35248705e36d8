import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { envSchema } from '@mailpush/config/config.schema';
import { repoRoot } from '../support/repo-root';
import { renderErrorDocs } from './error-docs';

const root = repoRoot();
const docsDir = join(root, 'docs');
const pages = [
  'README.md',
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (page: string) => readFileSync(join(root, page), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(page: string): Set<string> {
  const text = read(page).replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
}

describe('the documentation', () => {
  it('lists every error code with its class and message, as the catalog has them', () => {
    assert.equal(read('docs/errors.md'), renderErrorDocs(), 'docs/errors.md is stale: run npm run docs:errors');
  });

  it('keeps the README a front door', () => {
    const readme = read('README.md');
    assert.ok(readme.length < 10_000, `README.md is ${readme.length} characters: move detail into docs/`);
    for (const command of ['./scripts/start', './scripts/test', 'npm run test:unit']) {
      assert.ok(readme.includes(command), `README.md does not mention ${command}`);
    }
  });

  it('lists every configuration variable of the schema in docs/configuration.md', () => {
    const page = read('docs/configuration.md');
    const missing = Object.keys(envSchema.shape).filter((name) => !page.includes(`| \`${name}\``));
    assert.deepEqual(missing, []);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = read(page).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/.test(target)) continue;
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), path);
        if (!existsSync(file)) {
          broken.push(`${page}: ${target}`);
        } else if (anchor && file.endsWith('.md') && !anchors(file.slice(root.length + 1)).has(anchor)) {
          broken.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});

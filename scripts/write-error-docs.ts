// Writes docs/errors.md from the error catalog (libs/errors/error-code.ts), so the page and the
// code cannot drift: `npm run docs:errors`. test/docs/docs.spec.ts fails when the page is stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderErrorDocs } from '../test/docs/error-docs';

writeFileSync(resolve(import.meta.dirname, '../docs/errors.md'), renderErrorDocs());
console.log('wrote docs/errors.md');

// ESLint flat config: typescript-eslint's recommended rules for everything, plus the type-aware
// promise rules for the TypeScript sources (an unawaited promise in a watcher or a queue handler is a
// silent lost notification). Formatting is Prettier's job (npm run format), not ESLint's.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', '.tools/', '.data/', '.test-runs/', 'node_modules/', 'coverage/'],
  },
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'smart'],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-debugger': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // "Strict TypeScript everywhere, tests included: no @ts-expect-error debt" (STYLE.md).
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-expect-error': true, 'ts-ignore': true, 'ts-nocheck': true },
      ],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test return promises that the runner itself tracks.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // Shared libraries are reached by name (tsconfig paths), never by climbing directories.
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+libs/', message: 'import shared libraries as @mailpush/<lib>' }] },
      ],
    },
  },
);

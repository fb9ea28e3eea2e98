// Lint rules that keep the layers apart (see docs/ARCHITECTURE.md): the renderer and src/shared never reach into
// main or Node; main never imports electron except its thin entry; SQL lives in src/main/db/.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_AND_NATIVE = ['node:*', 'electron', 'better-sqlite3', 'sharp', '@tensorflow/*', 'onnxruntime-node'];
const restrict = (patterns, message) => ({ 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] });

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', '.cache/**', 'node_modules/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-object-type': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      ...restrict(['**/main/**', ...NODE_AND_NATIVE], 'The renderer talks to main only through the contract client (src/renderer/src/api.ts).'),
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: restrict(
      ['**/main/**', '**/renderer/**', '**/preload/**', ...NODE_AND_NATIVE],
      'src/shared is pure TypeScript both sides use: no main, renderer, Node or native imports.',
    ),
  },
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts'],
    rules: restrict(['electron', '**/renderer/**'], 'Only src/main/index.ts imports electron; main never imports the renderer.'),
  },
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/db/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='prepare']", message: 'SQL belongs in a repository under src/main/db/.' },
      ],
    },
  },
  {
    // Tests, benchmarks and scripts print their figures; the app logs through named loggers (src/main/log.ts).
    files: ['test/**', 'scripts/**', 'src/main/log.ts'],
    rules: { 'no-console': 'off' },
  },
);

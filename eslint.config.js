// Lint rules that keep the layers apart (see docs/ARCHITECTURE.md): the renderer and src/shared never reach into
// main or Node; main never imports electron except its thin entry; SQL lives in src/main/db/.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_AND_NATIVE = ['node:*', 'electron', 'better-sqlite3', 'sharp', '@tensorflow/*', 'onnxruntime-node'];
const restrict = (patterns, message) => ({ 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] });

/**
 * src/main's folders from the top down; each may import the folders of the rows below it (and its own row), never
 * those above. Files at src/main's root are named with their extension. Above them all: index.ts, the Electron
 * entry, which nothing imports.
 */
export const MAIN_LAYERS = [
  ['cli', 'api', 'desktopUrls.ts'],
  ['workflows'],
  ['results', 'team', 'validation'],
  ['workbench'],
  ['quality'],
  ['images'],
  ['ml'],
  ['jobs', 'project.ts'],
  ['db'],
  ['files', 'log.ts', 'resources.ts', 'security.ts'],
];
/** The wings of src/main/ml, from the top down, by the same rule. */
export const ML_WINGS = [['bundle'], ['explain'], ['finetune'], ['fusion'], ['cnn'], ['backbone'], ['onnx'], ['tfjs'], ['input'], ['stats']];

/** An import pattern for a folder (any import path through it) or a root file. */
const patternOf = (name) => (name.endsWith('.ts') ? `**/${name}` : `**/${name}/**`);
/** The patterns of every entry in rows above the row holding `name`. */
const above = (layers, name) =>
  layers
    .slice(
      0,
      layers.findIndex((row) => row.includes(name)),
    )
    .flat()
    .map(patternOf);
/** One block per folder of `root`: its imports may not name anything in the rows above it. */
const layerRules = (root, layers, always) =>
  layers.flatMap((row, i) =>
    row
      .filter(() => i > 0)
      .map((name) => ({
        files: [name.endsWith('.ts') ? `${root}/${name}` : `${root}/${name}/**/*.ts`],
        rules: restrict(
          [...always, ...layers.slice(0, i).flat().map(patternOf)],
          `${root}/${name} lies below ${layers.slice(0, i).flat().join(', ')} (docs/ARCHITECTURE.md): it may not import them.`,
        ),
      })),
  );

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
  // The order inside src/main (docs/ARCHITECTURE.md): a folder imports only what lies below it.
  ...layerRules('src/main', MAIN_LAYERS, ['electron', '**/renderer/**']),
  ...layerRules('src/main/ml', ML_WINGS, ['electron', '**/renderer/**', ...above(MAIN_LAYERS, 'ml')]),
  {
    // The command line runs the domain through workflows/, as the service does; only `serve` starts the transport.
    files: ['src/main/cli/**/*.ts'],
    ignores: ['src/main/cli/serve.ts'],
    rules: restrict(
      ['electron', '**/renderer/**', '**/api/**'],
      'cli/ calls workflows/ and the domain, not api/ (only cli/serve.ts starts the HTTP transport).',
    ),
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

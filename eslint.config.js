import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './web/svelte.config.js';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'files/**',
      'web/build/**',
      'web/.svelte-kit/**',
      'web/src/lib/graphql/graphql-env.d.ts',
      'artifacts/**',
      'test-results/**',
      'server/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // A promise nobody awaits or catches rejects into Node's unhandled-rejection handler, which
    // ends the process: on the server every promise is awaited, caught or marked `void` on
    // purpose. Type-aware, so for the server's TypeScript only.
    files: ['server/{src,test,bench}/**/*.ts', 'migrations/**/*.ts'],
    languageOptions: {
      parserOptions: { project: 'server/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Worker threads' plain CommonJS entry points (loaded by path, untransformed, everywhere).
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, svelteConfig, extraFileExtensions: ['.svelte'] },
    },
  },
);

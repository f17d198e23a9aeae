import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds without an exports map. Node, and so
    // every dependency, loads the CJS one; Vite would pick the ESM one for our sources, and
    // graphql refuses types from "another realm". One copy for everybody:
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file starts its own server and database; two cores, so two workers.
    maxWorkers: 2,
    pool: 'forks',
  },
});

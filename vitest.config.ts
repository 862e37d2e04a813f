import { defineConfig } from 'vitest/config';

// The whole suite runs twice: on embedded PGlite and on the PostgreSQL server.
const common = {
  include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...common, name: 'pglite', env: { SYNCDECK_TEST_DB: 'pglite' } } },
      { test: { ...common, name: 'postgres', env: { SYNCDECK_TEST_DB: 'postgres' } } },
    ],
  },
});

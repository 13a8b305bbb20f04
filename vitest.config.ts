import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, no servers) and `integration` (adapters, services and the
// whole stack against real Kafka, Postgres and Redis, brought up by test/global-setup.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['schemas/**/*.test.ts', 'packages/**/*.test.ts', 'services/**/*.test.ts', 'web/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.int.test.ts', '.stryker-tmp/**'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['**/*.int.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '.stryker-tmp/**'], // StrykerJS's sandboxes (npm run test:mutation)
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120000,
          hookTimeout: 180000,
          // Each file starts its own services; two at a time keep a 2-core machine responsive.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

// The pure tests of the modules under mutation (services/*/src/domain, schemas/src): what StrykerJS
// runs against each mutant. No servers, no integration tests.
export default defineConfig({
  test: {
    include: ['services/*/src/domain/**/*.test.ts', 'schemas/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.int.test.ts'],
  },
});

import { defineConfig } from 'vitest/config';

// The pure tests of the modules under mutation (services/*/src/domain, schemas/src): what StrykerJS
// runs against each mutant. No servers, no integration tests. The property test of ingest's pipeline
// (10,000 generated requests a run) is left out: it covers every ingest mutant and made a full run
// take hours; the table-driven stage tests and the golden SDK payloads cover the same code.
// While iterating on one module, MUTATION_TESTS (comma-separated globs) narrows the tests to its
// own: a static mutant (a module-level constant) reruns every included test, which dominates a run.
const narrowed = process.env.MUTATION_TESTS?.split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: narrowed ?? ['services/*/src/domain/**/*.test.ts', 'schemas/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.int.test.ts', '**/*.property.test.ts'],
  },
});

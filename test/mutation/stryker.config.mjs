// Mutation testing of the pure domain modules (`npm run test:mutation`): StrykerJS changes one
// operator, condition or literal at a time and runs the unit tests that cover it; a mutant that no
// test fails on is a behaviour the tests do not pin down. Reports: test/mutation/reports/.
// One module or folder while iterating: npm run test:mutation -- --mutate 'services/projector/src/domain/placement.ts'
// One report per run; name it to keep the reports of module groups apart.
const report = process.env.STRYKER_REPORT ?? 'mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // Worker threads by default; STRYKER_VITEST_POOL=forks for a module whose tests change the
  // process's time zone (process.env.TZ), which only a process's main thread can
  // (run-files.sh sets it for ingest's normalize.ts).
  vitest: { configFile: 'test/mutation/vitest.config.ts', pool: process.env.STRYKER_VITEST_POOL ?? 'threads' },
  mutate: ['services/*/src/domain/**/*.ts', 'schemas/src/**/*.ts', '!**/*.test.ts'],
  ignorePatterns: ['bench', 'docs', 'deploy', 'web', '.stack', 'test/mutation/reports'],
  coverageAnalysis: 'perTest',
  // The machine is shared: two test runners at most.
  concurrency: 2,
  timeoutMS: 10000,
  // With --incremental, results of unchanged code and tests are reused from the last run (it kept
  // stale survivors once a new test file covered them: make the figures with a full run).
  incrementalFile: `test/mutation/reports/${report}-incremental.json`,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `test/mutation/reports/${report}.json` },
  htmlReporter: { fileName: `test/mutation/reports/${report}.html` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};

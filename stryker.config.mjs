// stryker.config.mjs — mutation testing of the core (issue 17), run by `npm run mutate` (scripts/mutate.sh),
// one source file at a time: MUTATE_FILE is the file mutated, MUTATE_TESTS the test files that must kill
// its mutants. The command runner runs node:test through tsx (Stryker has no node:test runner); the
// TypeScript checker drops mutants that do not compile before any test runs.
const file = process.env.MUTATE_FILE;
const tests = process.env.MUTATE_TESTS;
if (!file || !tests) throw new Error('set MUTATE_FILE and MUTATE_TESTS (scripts/mutate.sh does)');
const name = file.replace(/[/.]/g, '_');

export default {
  packageManager: 'npm',
  testRunner: 'command',
  commandRunner: { command: `node --import tsx --test --test-timeout=120000 ${tests}` },
  mutate: file.split(','),
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'off',
  // two cores are shared: one mutant at a time
  concurrency: 1,
  timeoutMS: 60000,
  reporters: ['clear-text', 'json', 'progress-append-only'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['reports', 'dist', '.cache'],
};

/**
 * Fault and fuzz tests (npm run test:faults): real Haven processes on PostgreSQL, cut, killed and
 * flooded; and every route fed generated hostile input. Not part of npm test: they take minutes.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 300_000,
  maxWorkers: 1,
};

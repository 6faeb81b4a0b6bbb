/** Browser tests (npm run test:e2e): Debian's Chromium against a real Haven process on PostgreSQL. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.ts'],
  testTimeout: 120_000,
  // One browser and one server at a time: the machine has two cores.
  maxWorkers: 1,
};

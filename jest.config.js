/**
 * One jest run for the whole repository. Tests are transpiled only (fast); `npm test` runs
 * `tsc -b` first, which is where types are checked. Workspaces import each other through
 * their package names, mapped here to their sources so a test never needs a stale build.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  maxWorkers: 2,
  testTimeout: 30_000,
  roots: ['<rootDir>/packages', '<rootDir>/monolith', '<rootDir>/gateway', '<rootDir>/extracted', '<rootDir>/docs', '<rootDir>/migration', '<rootDir>/examples'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^@banyan/monolith$': '<rootDir>/monolith/src',
    '^@banyan/gateway$': '<rootDir>/gateway/src',
    '^@banyan/([a-z-]+)-service$': '<rootDir>/extracted/$1-service/src',
    '^@banyan/([a-z-]+)$': '<rootDir>/packages/$1/src',
  },
};

// Jest: ts-jest on __tests__/. KHX_EXPRESS=4 reruns the suite with Express 4 in place of Express 5.
const express4 = process.env.KHX_EXPRESS === '4';

/** @type {import('jest').Config} */
module.exports = {
  displayName: express4 ? 'express@4' : 'express@5',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/setup.ts'],
  moduleNameMapper: {
    // The example shop imports the package by name; under test that is the TypeScript source.
    '^khalti-express$': '<rootDir>/lib/index.ts',
    '^khalti-express/sandbox$': '<rootDir>/lib/sandbox/index.ts',
    '^khalti-express/stores/(sqlite|postgres|redis)$': '<rootDir>/lib/stores/$1.ts',
    ...(express4 ? { '^express(/.*)?$': 'express4$1' } : {}),
  },
  // Suites whose app runs in a child process (or from the packed tarball) use the real express
  // whatever jest maps: running them again under KHX_EXPRESS=4 would test nothing new.
  testPathIgnorePatterns: express4
    ? ['/node_modules/', '(package|crash|many-instances|sandbox-cli|postgres-restart|bench-smoke)\\.test\\.ts$']
    : ['/node_modules/'],
  collectCoverageFrom: ['lib/**/*.ts'],
  coverageThreshold: { global: { lines: 90 } },
  coverageReporters: ['text-summary', 'lcov'],
  testTimeout: 20_000,
};

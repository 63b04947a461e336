// Jest: ts-jest on __tests__/, one project per layer, so a slow or service-bound layer is one path:
//   unit/    pure logic and the Khalti client against nock: no server, no database
//   http/    the router through HTTP (supertest, the sandbox on loopback), MemoryStore
//   stores/  the ledger stores against real SQLite, PostgreSQL and Redis
//   system/  several processes: crashes, many instances, the packed package, the CLI, benchmarks' smoke
//   browser/ Chromium through playwright-core: the example shop and Khalti's genuine widget
// Run one with `npx jest --selectProjects stores`. KHX_EXPRESS=4 reruns the suite with Express 4 in
// place of Express 5, without system/: its apps run in child processes (or from the packed tarball)
// with the real express whatever jest maps, so running them again would test nothing new.
const express4 = process.env.KHX_EXPRESS === '4';
const LAYERS = ['unit', 'http', 'stores', 'system', 'browser'];

/** @type {(layer: string) => import('jest').Config} */
const project = (layer) => ({
  displayName: express4 ? `${layer} · express@4` : layer,
  testEnvironment: 'node',
  roots: [`<rootDir>/__tests__/${layer}`],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/setup.ts'],
  moduleNameMapper: {
    // The example shop imports the package by name; under test that is the TypeScript source.
    '^khalti-express$': '<rootDir>/lib/index.ts',
    '^khalti-express/sandbox$': '<rootDir>/lib/sandbox/index.ts',
    '^khalti-express/stores/([a-z]+)$': '<rootDir>/lib/stores/$1.ts',
    ...(express4 ? { '^express(/.*)?$': 'express4$1' } : {}),
  },
  testTimeout: 20_000,
});

/** @type {import('jest').Config} */
module.exports = {
  projects: LAYERS.filter((layer) => !(express4 && layer === 'system')).map(project),
  collectCoverageFrom: ['lib/**/*.ts'],
  coverageThreshold: { global: { lines: 90 } },
  coverageReporters: ['text-summary', 'lcov'],
};

// Three tiers (see docs/testing in README): unit specs beside the code, contract suites that run
// every port against each adapter on real servers, and e2e suites over HTTP.
const transform = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: { isolatedModules: true } }],
  // Some of Swagger UI's static-file dependencies ship ESM only; Node requires them natively,
  // Jest's CommonJS runtime needs them transpiled.
  '^.+/node_modules/(content-disposition)/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { isolatedModules: true, allowJs: true } }],
};
const common = {
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition)/)'],
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};
module.exports = {
  rootDir: __dirname,
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'] },
    { ...common, displayName: 'contract', rootDir: __dirname, testMatch: ['<rootDir>/test/contract/**/*.test.ts'] },
    { ...common, displayName: 'e2e', rootDir: __dirname, testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    { ...common, displayName: 'deploy', rootDir: __dirname, testMatch: ['<rootDir>/test/deploy/**/*.test.ts'] },
    // Starts its own Redis Cluster and 3-broker Kafka (scripts/cluster.sh) and stops them: only with
    // TETRAD_CLUSTER_SUITE=1, which scripts/test.sh sets for its own step after the other suites.
    ...(process.env.TETRAD_CLUSTER_SUITE === '1'
      ? [{ ...common, displayName: 'cluster', rootDir: __dirname, testMatch: ['<rootDir>/test/cluster/**/*.test.ts'] }]
      : []),
  ],
};

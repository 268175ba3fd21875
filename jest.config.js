/**
 * Unit specs sit beside the code; end-to-end specs live in test/. The fresh-app specs (project
 * `apps`, `npm run test:apps`) install packages from the registry and run apart from `npm test`.
 */
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testEnvironment: '<rootDir>/test/support/jest-environment.js',
  rootDir: __dirname,
  moduleNameMapper: {
    '^@lanarky/openai(|/.*)$': '<rootDir>/libs/lanarky-openai/src$1',
  },
  modulePathIgnorePatterns: [
    '<rootDir>/dist',
    '<rootDir>/libs/lanarky-openai/dist',
    '<rootDir>/libs/lanarky-openai/schematics-dist',
    // Fixture apps, as `nest new` made them: their own specs are theirs to run.
    '<rootDir>/test/fresh-apps/',
  ],
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/*.e2e-spec.ts'] },
    { ...shared, displayName: 'apps', testMatch: ['<rootDir>/test/*.apps-spec.ts'] },
  ],
};

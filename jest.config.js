/** Unit specs sit beside the code; end-to-end specs live in test/. */
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testEnvironment: '<rootDir>/test/support/jest-environment.js',
  rootDir: __dirname,
  moduleNameMapper: {
    '^@lanarky/openai(|/.*)$': '<rootDir>/libs/lanarky-openai/src$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/libs/lanarky-openai/dist', '<rootDir>/libs/lanarky-openai/schematics-dist'],
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};

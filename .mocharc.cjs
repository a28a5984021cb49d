// Test files named on the command line (`npm test -- test/unit/x.test.ts`) replace the default list; mocha
// would otherwise run them in addition to it.
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg) || arg.endsWith('/'));

module.exports = {
  'node-option': ['import=tsx'],
  spec: named ? [] : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/browser/**/*.test.ts'],
  timeout: 60000,
  slow: 2000,
  reporter: 'spec',
  require: ['test/setup.ts'],
};

const { TestEnvironment } = require('jest-environment-node');

/**
 * Jest runs tests in their own realm, but Node's fetch rejects with errors of the host realm,
 * which fail the test realm's `instanceof Error`: the openai SDK then mistakes a timeout for a
 * plain connection error. Re-creating fetch's errors in the test realm restores what code
 * outside jest sees; nothing else changes.
 */
class LoopbackEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    const hostFetch = this.global.fetch;
    const TestError = this.global.Error;
    this.global.fetch = (...args) =>
      hostFetch(...args).catch((error) => {
        throw Object.assign(new TestError(error?.message, { cause: error?.cause }), { name: error?.name });
      });
  }
}

module.exports = LoopbackEnvironment;

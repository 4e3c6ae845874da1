// Runs before every test file: tests never read a developer's .env, and they refuse to touch a
// database whose name does not say "test" (see PostgresSqlDatabase).
process.env.NODE_ENV = 'test';

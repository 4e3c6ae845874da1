// Module boundaries, checked by the test command (npm test → depcruise).

const CLIENTS = 'node_modules/(typeorm|ioredis|kafkajs|bullmq|pg|pg-[^/]+|@electric-sql/[^/]+)/';
const TRANSPORT = '.+\\.(controller|consumer|processor|cron)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-reaching-into-other-modules',
      comment: "A module uses another module only through that module's index.ts.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/.+', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'outside-uses-module-index-only',
      comment: 'Code outside src/modules reaches a module only through its index.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/.+', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'domain-is-plain-typescript',
      comment: 'Domain code imports no framework or infrastructure client.',
      severity: 'error',
      from: { path: '/domain/' },
      to: { path: 'node_modules/(@nestjs|typeorm|ioredis|kafkajs|bullmq|pg|@electric-sql|fastify)/' },
    },
    {
      name: 'domain-does-not-import-adapters',
      severity: 'error',
      from: { path: '/domain/' },
      to: { path: '(/adapters/|/api/|src/platform/(?!ids|clock|errors|idempotency/request-fingerprint))' },
    },
    {
      name: 'application-uses-no-infrastructure-client',
      comment:
        'Use-case services (src/modules/<m>/application/) reach SQL, Redis, Kafka and BullMQ only through ports and platform ' +
        'building blocks, so they read as the use case and run against either adapter. Type-only imports count too.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/application/' },
      to: { path: CLIENTS },
    },
    {
      name: 'transport-calls-only-its-services',
      comment:
        'Transport files (*.controller.ts, *.consumer.ts, *.processor.ts, *.cron.ts) only hand requests to their own ' +
        "module's application services: they may import those, the module's DTOs/responses, domain types, errors, types " +
        'and config slice, and the platform — no ports, adapters, other transports, other modules or infrastructure clients.',
      severity: 'error',
      from: { path: `^src/modules/([^/]+)/${TRANSPORT}` },
      to: {
        path: `(^src/modules/|${CLIENTS})`,
        pathNot: [
          '^src/modules/$1/application/',
          '^src/modules/$1/domain/',
          '^src/modules/$1/.+\\.(dto|responses)\\.ts$',
          '^src/modules/$1/[^/]+\\.(errors|types|config)\\.ts$',
        ],
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};

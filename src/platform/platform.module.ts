import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { HttpGuardConfig, MessagingConfig, provideConfigSlice } from '../config/config-slice';
import { WhoAmIController } from './auth/whoami.controller';
import { Clock } from './clock/clock';
import { SqlDatabase } from './database/sql-database';
import { ProblemDetailsFilter } from './errors/problem-details.filter';
import { HealthController } from './health/health.controller';
import { IdempotencyStore } from './idempotency/idempotency-store';
import { IdGenerator } from './ids/id-generator';
import { Infrastructure } from './infrastructure';
import { InfrastructureCloser } from './infrastructure-closer';
import { KeyValueStore } from './kv/key-value-store.port';
import { EventBus } from './messaging/event-bus.port';
import { ModuleTopics } from './messaging/module-topics';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsRegistry } from './metrics/metrics';
import { JobQueue } from './queue/job-queue.port';
import { RateLimiter } from './rate-limit/rate-limiter';
import { LiveFeeds } from './sse/live-feeds';

/**
 * Exposes the opened Infrastructure's ports as injection tokens (each port is an abstract class,
 * so it is its own token), plus the cross-cutting guards, filter, health and metrics.
 */
@Global()
@Module({})
export class PlatformModule {

  static forInfrastructure(infra: Infrastructure): DynamicModule {
    const values = [
      { provide: Infrastructure, useValue: infra },
      { provide: AppConfig, useValue: infra.config },
      { provide: Clock, useValue: infra.clock },
      { provide: IdGenerator, useValue: infra.ids },
      { provide: MetricsRegistry, useValue: infra.metrics },
      { provide: RateLimiter, useValue: infra.rateLimiter },
      { provide: SqlDatabase, useValue: infra.sql },
      { provide: DataSource, useValue: infra.sql.dataSource },
      { provide: KeyValueStore, useValue: infra.kv },
      { provide: JobQueue, useValue: infra.queue },
      { provide: EventBus, useValue: infra.bus },
    ];
    const slices = [provideConfigSlice(MessagingConfig), provideConfigSlice(HttpGuardConfig)];
    return {
      module: PlatformModule,
      imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
      controllers: [HealthController, MetricsController, WhoAmIController],
      providers: [
        ...values,
        ...slices,
        ModuleTopics,
        IdempotencyStore,
        LiveFeeds,
        InfrastructureCloser,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
      exports: [...values.map((v) => v.provide), MessagingConfig, HttpGuardConfig, ModuleTopics, IdempotencyStore, LiveFeeds],
    };
  }
}

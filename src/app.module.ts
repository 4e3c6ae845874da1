import { DynamicModule, Module, Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ModuleName } from './config/app-config';
import { AdAnalyticsModule } from './modules/ad-analytics';
import { GpuSchedulerModule } from './modules/gpu-scheduler';
import { LeaderboardModule } from './modules/leaderboard';
import { TicketingModule } from './modules/ticketing';
import { Infrastructure } from './platform/infrastructure';
import { PlatformModule } from './platform/platform.module';

const MODULES: Record<ModuleName, Type> = {
  leaderboard: LeaderboardModule,
  ticketing: TicketingModule,
  'ad-analytics': AdAnalyticsModule,
  'gpu-scheduler': GpuSchedulerModule,
};

/** Composes the platform with the modules that APP_MODULES names; roles are read by each module. */
@Module({})
export class AppModule {
  static compose(infra: Infrastructure, extra: Type[] = []): DynamicModule {
    const config = infra.config;
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        PlatformModule.forInfrastructure(infra),
        ...config.APP_MODULES.map((m) => MODULES[m]),
        ...extra,
      ],
    };
  }
}


import { Module } from '@nestjs/common';
import { provideConfigSlice } from '../../../config/config-slice';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { AgentService } from './agent.service';
import { SimulatedAgents } from './simulated-agents';

/**
 * Node agents (see docs/gpu-scheduler.md, "Agents"): AgentService in the `agent` role, and the
 * built-in simulated agents of `"simulated": true` nodes in the `worker` role. Both speak only
 * agent-protocol.ts, like agents on other machines.
 */
@Module({
  providers: [provideConfigSlice(GpuSchedulerConfig), AgentService, SimulatedAgents],
  // The module's config slice is provided here, once, for the scheduler side (which imports this module) too.
  exports: [GpuSchedulerConfig, AgentService, SimulatedAgents],
})
export class AgentModule {}

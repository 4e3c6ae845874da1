import { Module } from '@nestjs/common';
import { AgentService } from './agent.service';
import { SimulatedAgents } from './simulated-agents';

/**
 * Node agents (see docs/gpu-scheduler.md, "Agents"): AgentService in the `agent` role, and the
 * built-in simulated agents of `"simulated": true` nodes in the `worker` role. Both speak only
 * agent-protocol.ts, like agents on other machines.
 */
@Module({
  providers: [AgentService, SimulatedAgents],
  exports: [AgentService, SimulatedAgents],
})
export class AgentModule {}

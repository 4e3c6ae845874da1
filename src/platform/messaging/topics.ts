import type { AppConfig } from '../../config/app-config';

/**
 * The log-wide name of a module topic. The default namespace keeps the contract names
 * (`ticketing.orders`, `gpu.tasks`); any other namespace prefixes them, so test runs and tenants
 * sharing one cluster never read each other's events.
 */
export function topicName(config: Pick<AppConfig, 'NAMESPACE'>, topic: string): string {
  return config.NAMESPACE === 'tetrad' ? topic : `${config.NAMESPACE}.${topic}`;
}

/** Consumer groups are namespaced the same way. */
export function groupName(config: Pick<AppConfig, 'NAMESPACE'>, group: string): string {
  return `${config.NAMESPACE}.${group}`;
}

import { EntityManager } from 'typeorm';

/** One event to publish, written by the transaction that made the state change it reports. */
export interface OutboxMessage {
  /** Stable event id: the same on every (re)publication, what consumers deduplicate on. */
  id: string;
  /** Log-wide topic name (already namespaced). */
  topic: string;
  /** Partition key: every event of one key is published in the order it was committed. */
  key: string;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Appends to the transactional outbox inside the caller's transaction: the event exists if and
 * only if the state change committed. The relay (outbox-relay.ts) publishes it later.
 */
export async function appendOutbox(m: EntityManager, namespace: string, nowMs: number, msg: OutboxMessage): Promise<void> {
  await m.query(
    `INSERT INTO ticketing_outbox (id, namespace, topic, key, type, payload, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [msg.id, namespace, msg.topic, msg.key, msg.type, JSON.stringify({ id: msg.id, type: msg.type, ...msg.payload }), nowMs],
  );
}

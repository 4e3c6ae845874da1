import { applyDecorators, Catch, Logger, RpcExceptionFilter, Type, UseFilters } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, EventPattern, Server } from '@nestjs/microservices';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { Counter } from 'prom-client';
import { isObservable, lastValueFrom, Observable, throwError } from 'rxjs';
import { AppConfig } from '../../config/app-config';
import { MetricsRegistry } from '../metrics/metrics';
import { compileDto } from '../validation/compiled-dto';
import { BatchContext, ConsumerBatch, EventBus, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription } from './event-bus.port';
import { groupName, topicName } from './topics';

/**
 * Consumers as Nest microservice handlers: a custom transport strategy over the EventBus port, so a
 * Kafka consumer (or the embedded log's) is a `@Controller()` class whose method carries
 * `@ConsumeBatch({ topic, group, message: SomeDto })` (an `@EventPattern` bound to this transport) and
 * reads like an HTTP controller: `@Payload()` is the partition's batch, `@Ctx()` an EventBusContext.
 *
 * What the transport keeps from the port, for every handler:
 * - one subscription (consumer group) per handler, offsets committed manually after the handler
 *   resolves; a throw redelivers the batch (at least once; Nest's exception layer passes it on as it is);
 * - `partitions`: a provider that keeps its own resume positions next to its state (resumeFrom) and
 *   hears about assignment, revocation, start and stop;
 * - `transactional`: output produced through the context commits with the offsets, or not at all;
 * - partition concurrency and fetch sizes, passed to the bus as they are.
 * Every message is decoded and validated before the handler sees it (a class-validator DTO, or for a
 * hot path a hand-written decoder). A message that fails is counted in
 * `event_bus_rejected_messages_total{group,topic}`, logged once (one line per message, not again on a
 * redelivery), handed to the handler only in `batch.rejected`, and committed with its batch: it never
 * stops the consumer nor blocks its partition. The raw message stays in the log for inspection; there
 * is no dead-letter topic.
 *
 * Runs only where the application connects it (the worker role, src/app.ts). Nest's own global
 * guards, pipes and filters of the HTTP app are not inherited (inheritAppConfig: false).
 */
export const EVENT_BUS_TRANSPORT = Symbol('EVENT_BUS');

/** A hand-written decoder for hot paths: the value, or null when the message is not valid. */
export type MessageDecoder<T> = (value: string) => T | null;

/** Handed to a PartitionOwner when its consumer starts. */
export interface ConsumerControl {
  /**
   * Closes the subscription (every partition is revoked) and subscribes again, so every partition
   * resumes from its owner's position; retried with backoff until it succeeds or the app closes.
   * For an owner whose state fell behind what it read (a failed checkpoint, a gap in offsets).
   */
  restart(): Promise<void>;
}

/** Told about the partitions of one subscription; e.g. the service whose state holds the resume positions. */
export interface PartitionOwner extends Pick<SubscribeOptions, 'resumeFrom' | 'onAssigned' | 'onRevoked'> {
  /** Called once, before the subscription starts. */
  onListen?(control: ConsumerControl): Promise<void> | void;
  /** Called on shutdown while the partitions are still owned, before the subscription closes. */
  beforeClose?(): Promise<void>;
}

export interface ConsumerSpec<T> extends Pick<SubscribeOptions, 'transactional' | 'fetch'> {
  /** The module topic (namespaced by the transport, as ModuleTopics creates it). */
  topic: string;
  /** The consumer group (namespaced the same way). One handler per group. */
  group: string;
  /** The body's DTO: JSON, validated with class-validator (unknown fields dropped). */
  message?: Type<T>;
  /** Instead of `message`, for a hot path: a hand-written decoder that validates (say why where it is used). */
  decode?: MessageDecoder<T>;
  /** 'all': as many as the topic has partitions (KAFKA_PARTITIONS). */
  partitionsConcurrently?: number | 'all';
  /** The provider (resolved from the application) that owns the partitions' state. */
  partitions?: Type<PartitionOwner>;
}

/** A message that passed validation: its decoded body and where it came from. */
export interface Delivered<T> {
  data: T;
  raw: IncomingMessage;
}

/** `@Payload()` of a batch handler: one partition's messages in log order. */
export interface EventBatch<T> extends Omit<ConsumerBatch, 'messages'> {
  /** Valid messages, decoded. */
  messages: Delivered<T>[];
  /** Messages that failed validation: already counted and logged; their offsets commit with the batch. */
  rejected: IncomingMessage[];
  /** The first and last offsets of the whole batch (valid and rejected messages). */
  firstOffset: string;
  lastOffset: string;
}

/** `@Ctx()` of a batch handler. */
export class EventBusContext extends BaseRpcContext<[ConsumerBatch, BatchContext, (topic: string) => string]> {
  /** True while this member still owns the partition; long handlers check it between steps. */
  isOwned(): boolean {
    return this.args[1].isOwned();
  }

  /** Transactional consumers only: output to a module topic, committed atomically with this batch's offsets. */
  produce(topic: string, messages: OutgoingMessage[]): void {
    this.args[1].produce(this.args[2](topic), messages);
  }
}

/**
 * A handler's error goes back to the transport as it is, so the bus redelivers the batch (kafkajs logs
 * the failed batch). Nest's default RPC filter would log it with its stack and replace it by a generic one.
 */
@Catch()
class RedeliverFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** The batch-handler form of `@EventPattern`, bound to this transport. */
export function ConsumeBatch<T>(spec: ConsumerSpec<T>): MethodDecorator {
  return applyDecorators(EventPattern({ group: spec.group, topic: spec.topic }, EVENT_BUS_TRANSPORT, { spec }), UseFilters(new RedeliverFilter()));
}

type Handler = ((data: unknown, ctx: unknown) => Promise<unknown>) & { extras?: { spec?: ConsumerSpec<unknown> }; next?: unknown };

/** One handler's subscription, as it runs. */
interface Consumer {
  spec: ConsumerSpec<unknown>;
  handler: Handler;
  owner?: PartitionOwner;
  sub?: Subscription;
  restarting?: Promise<void>;
  closed: boolean;
}

class Rejection {
  constructor(readonly reason: string) {}
}

export class EventBusTransport extends Server implements CustomTransportStrategy {
  override readonly transportId = EVENT_BUS_TRANSPORT;
  private readonly log = new Logger('event-bus.transport');
  private readonly rejectedTotal: Counter<'group' | 'topic'>;
  private readonly consumers: Consumer[] = [];
  /** Per group and partition, the highest rejected offset already counted and logged. */
  private readonly rejectedUpTo = new Map<string, bigint>();

  constructor(
    private readonly bus: EventBus,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
    /** Resolves a `partitions` provider from the application. */
    private readonly resolve: <T>(token: Type<T>) => T,
  ) {
    super();
    this.rejectedTotal = new Counter({
      name: 'event_bus_rejected_messages_total',
      help: 'log messages that failed validation before their handler (skipped; offset committed with the batch)',
      labelNames: ['group', 'topic'],
      registers: [metrics.registry],
    });
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      for (const [route, handler] of this.getHandlers() as Map<string, Handler>) {
        const spec = handler.extras?.spec;
        if (!spec) throw new Error(`event-bus transport: ${route} is not a @ConsumeBatch handler`);
        if (handler.next) throw new Error(`event-bus transport: two handlers for group ${spec.group}`);
        const c: Consumer = { spec, handler, owner: spec.partitions ? this.resolve(spec.partitions) : undefined, closed: false };
        this.consumers.push(c);
        await c.owner?.onListen?.({ restart: () => this.restart(c) });
        c.sub = await this.subscribe(c);
      }
      callback();
    } catch (e) {
      callback(e);
    }
  }

  private subscribe({ spec, handler, owner }: Consumer): Promise<Subscription> {
    const groupId = groupName(this.config, spec.group);
    const decode = this.decoderOf(spec);
    const namespaced = (t: string) => topicName(this.config, t);
    return this.bus.subscribe({
      groupId,
      topics: [namespaced(spec.topic)],
      transactional: spec.transactional,
      partitionsConcurrently: spec.partitionsConcurrently === 'all' ? this.config.KAFKA_PARTITIONS : spec.partitionsConcurrently,
      fetch: spec.fetch,
      resumeFrom: owner?.resumeFrom && ((tp) => owner.resumeFrom!(tp)),
      onAssigned: owner?.onAssigned && ((tps) => owner.onAssigned!(tps)),
      onRevoked: owner?.onRevoked && ((tps) => owner.onRevoked!(tps)),
      handleBatch: async (batch, ctx) => {
        const messages: Delivered<unknown>[] = [];
        const rejected: IncomingMessage[] = [];
        for (const raw of batch.messages) {
          const data = decode(raw.value);
          if (data instanceof Rejection) {
            rejected.push(raw);
            this.reject(groupId, raw, data.reason);
          } else messages.push({ data, raw });
        }
        const payload: EventBatch<unknown> = {
          topic: batch.topic,
          partition: batch.partition,
          messages,
          rejected,
          firstOffset: batch.messages[0].offset,
          lastOffset: batch.messages[batch.messages.length - 1].offset,
          highWatermark: batch.highWatermark,
        };
        const result = await handler(payload, new EventBusContext([batch, ctx, namespaced]));
        // Nest's exception layer turns a throw into an erroring Observable: awaiting it rethrows the error, and the bus redelivers.
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      },
    });
  }

  private restart(c: Consumer): Promise<void> {
    if (c.closed) return Promise.resolve();
    return (c.restarting ??= (async () => {
      await new Promise((r) => setTimeout(r, 100)); // let the batch that asked for it end first
      const old = c.sub;
      c.sub = undefined;
      await old?.close().catch((e: unknown) => this.log.warn(`${c.spec.group}: closing the subscription failed: ${(e as Error).message}`));
      for (let delay = 200; !c.closed; delay = Math.min(delay * 2, 5000)) {
        try {
          c.sub = await this.subscribe(c);
          return;
        } catch (e) {
          this.log.error(`${c.spec.group}: re-subscribing failed: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => (c.restarting = undefined)));
  }

  /** The decoded body, or why it is not valid (no allocation per valid message: the hot path). */
  private decoderOf({ message, decode, group }: ConsumerSpec<unknown>): (value: string) => unknown {
    if (!message === !decode) throw new Error(`event-bus transport: group ${group} needs exactly one of message (a DTO) and decode`);
    if (decode) return (value) => decode(value) ?? new Rejection('not a valid message');
    // The DTO's rules compiled once; class-validator still answers for what the check refuses.
    const compiled = compileDto(message as Type<object>);
    return (value) => {
      let plain: unknown;
      try {
        plain = JSON.parse(value);
      } catch {
        return new Rejection('not JSON');
      }
      if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return new Rejection('not a JSON object');
      const fast = compiled?.(plain as Record<string, unknown>);
      if (fast) return fast;
      const dto = plainToInstance(message!, plain) as object;
      // Unknown fields are dropped, not refused: a newer producer may add fields during a rolling deploy.
      const errors = validateSync(dto, { whitelist: true, forbidUnknownValues: true });
      if (errors.length > 0) return new Rejection(errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` })).join('; '));
      return dto;
    };
  }

  private reject(groupId: string, m: IncomingMessage, problem: string): void {
    const k = `${groupId}/${m.topic}/${m.partition}`;
    const offset = BigInt(m.offset);
    const seen = this.rejectedUpTo.get(k);
    if (seen !== undefined && offset <= seen) return; // a redelivery: counted and logged already
    this.rejectedUpTo.set(k, offset);
    this.rejectedTotal.inc({ group: groupId, topic: m.topic });
    this.log.warn(`${groupId}: skipping invalid message ${m.topic}/${m.partition}@${m.offset}: ${problem}`);
  }

  /** Each owner hears beforeClose while its partitions are still owned; then the subscriptions leave their groups. */
  async close(): Promise<void> {
    await Promise.all(
      this.consumers.splice(0).map(async (c) => {
        try {
          await c.owner?.beforeClose?.();
        } finally {
          c.closed = true;
          await c.restarting;
          await c.sub?.close();
        }
      }),
    );
  }

  on(): never {
    throw new Error('event-bus transport: no events to listen to');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}

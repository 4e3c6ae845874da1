// Reads of the ad-analytics stream's stores for tests and benches: the stream worker has no test hooks,
// so these look at what it wrote (the counters committed with its checkpoints, the Redis dashboard).
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { eventsTopic, STREAM_GROUP } from '../../src/modules/ad-analytics';
import { KeyValueStore } from '../../src/platform/kv/key-value-store.port';
import { groupName } from '../../src/platform/messaging/topics';

export type StreamCounters = { events: number; late: number; unmatched: number; malformed: number };

/** The stream's consumer group and topic in this app's namespace. */
export function streamKey(app: INestApplicationContext): { groupId: string; topic: string } {
  const config = app.get(AppConfig);
  return { groupId: groupName(config, STREAM_GROUP), topic: eventsTopic(config) };
}

/** The counters committed with the checkpoints (ad_stream_counters), summed over partitions. */
export async function streamCounters(db: DataSource, k: { groupId: string; topic: string }): Promise<StreamCounters> {
  const [r]: Record<keyof StreamCounters, string>[] = await db.query(
    `SELECT coalesce(sum(events), 0) AS events, coalesce(sum(late), 0) AS late,
            coalesce(sum(unmatched), 0) AS unmatched, coalesce(sum(malformed), 0) AS malformed
       FROM ad_stream_counters WHERE group_id = $1 AND topic = $2`,
    [k.groupId, k.topic],
  );
  return { events: Number(r.events), late: Number(r.late), unmatched: Number(r.unmatched), malformed: Number(r.malformed) };
}

/** The Redis dashboard hash of an ad or a campaign, with its per-partition fields summed per window. */
export async function dashboard(app: INestApplicationContext, kind: 'ad' | 'campaign', id: string) {
  const h = await app.get(KeyValueStore).hGetAll(`${app.get(AppConfig).NAMESPACE}:ads:rt:${kind}:${id}`);
  const byWindow = new Map<number, { windowStart: number; impressions: number; clicks: number }>();
  for (const [field, value] of Object.entries(h)) {
    const ws = Number(field.slice(0, field.indexOf(':')));
    const [i, c] = value.split(':').map(Number);
    const row = byWindow.get(ws) ?? { windowStart: ws, impressions: 0, clicks: 0 };
    row.impressions += i;
    row.clicks += c;
    byWindow.set(ws, row);
  }
  return [...byWindow.values()].sort((a, b) => a.windowStart - b.windowStart);
}

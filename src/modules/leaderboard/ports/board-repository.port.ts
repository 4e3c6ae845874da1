import { BoardConfig } from '../domain';
import { StoredRankedEntry } from './rank-store.port';

export interface Board extends BoardConfig {
  resetSchedule: string | null;
  season: number;
  createdAt: string;
}

export type ArchivedEntry = Omit<StoredRankedEntry, 'seq'>;

/** Board registry and season archive (SQL on both profiles). */
export abstract class BoardRepository {
  /** Null when a board with this id exists already. */
  abstract create(b: Omit<Board, 'season' | 'createdAt'>): Promise<Board | null>;
  abstract get(id: string): Promise<Board | null>;
  abstract list(limit: number, offset: number): Promise<Board[]>;
  /** Archives a season's standings and moves the board to the next season, all or nothing; false when it is no longer at `season`. */
  abstract archiveAndAdvance(boardId: string, season: number, entries: StoredRankedEntry[]): Promise<boolean>;
  /** Replaces an archived season's standings (writes that landed after the archive was taken). */
  abstract rewriteArchive(boardId: string, season: number, entries: StoredRankedEntry[]): Promise<void>;
  abstract season(boardId: string, season: number): Promise<{ total: number } | null>;
  abstract seasonTop(boardId: string, season: number, limit: number, offset: number): Promise<ArchivedEntry[]>;
}

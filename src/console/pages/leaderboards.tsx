import { useEffect, useState } from 'preact/hooks';
import { get, Role } from '../api';
import { ColumnHeads, ErrorNote, fmt, message, Section, Stat, useInterval, useLoad } from '../ui';

interface Board {
  id: string;
  order: string;
  season: number;
}
interface Entry {
  rank: number;
  playerId: string;
  score: number;
}
interface Page {
  total: number;
  entries: Entry[];
}
interface PlayerView {
  playerId: string;
  score: number;
  rank: number;
  total: number;
  percentile: number;
  neighbours: Entry[];
}

const PAGE = 10;
/** Top-K has no stream; its first pages are cached on the server, so a few seconds' refresh is cheap. */
const REFRESH_MS = 5000;

export function LeaderboardsPage(_: { role: Role }) {
  const boards = useLoad(() => get<{ boards: Board[] }>('/leaderboards', { limit: 500 }), []);
  const [boardId, setBoardId] = useState<string>();
  const list = boards.value?.boards ?? [];
  useEffect(() => {
    if (!boardId && list.length > 0) setBoardId(list[0].id);
  }, [list.length]);
  const board = list.find((b) => b.id === boardId);
  return (
    <>
      <div class="toolbar">
        <label for="board">Leaderboard</label>
        <select id="board" value={boardId ?? ''} onChange={(e) => setBoardId((e.target as HTMLSelectElement).value)}>
          {list.length === 0 ? <option value="">no leaderboards yet</option> : null}
          {list.map((b) => (
            <option key={b.id} value={b.id}>
              {b.id} (season {b.season}, {b.order})
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={boards.error} />
      {board ? <BoardView key={board.id} board={board} /> : null}
    </>
  );
}

function BoardView({ board }: { board: Board }) {
  const [offset, setOffset] = useState(0);
  const [highlight, setHighlight] = useState<string>();
  const top = useLoad(() => get<Page>(`/leaderboards/${encodeURIComponent(board.id)}/top`, { limit: PAGE, offset }), [board.id, offset]);
  useInterval(top.reload, REFRESH_MS);
  const total = top.value?.total ?? 0;
  return (
    <>
      <Section title={`Top players, season ${board.season}`}>
        <ErrorNote error={top.error} />
        <Ranking entries={top.value?.entries ?? []} highlight={highlight} caption={`ranks ${offset + 1}–${Math.min(offset + PAGE, total)} of ${fmt.int(total)}`} />
        <Pager offset={offset} total={total} onChange={setOffset} />
      </Section>
      <PlayerSearch board={board} onFound={setHighlight} />
      {board.season > 1 ? <Seasons board={board} /> : null}
    </>
  );
}

function Ranking({ entries, highlight, caption }: { entries: Entry[]; highlight?: string; caption: string }) {
  return (
    <div class="scroll">
      <table>
        <caption>{caption}</caption>
        <ColumnHeads cols={[{ num: 'Rank' }, 'Player', { num: 'Score' }]} />
        <tbody>
          {entries.map((e) => (
            <tr key={e.playerId} class={e.playerId === highlight ? 'highlight' : undefined} aria-current={e.playerId === highlight ? 'true' : undefined}>
              <td class="num">{fmt.int(e.rank)}</td>
              <th scope="row">{e.playerId}</th>
              <td class="num">{e.score.toLocaleString('en-US')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PlayerSearch({ board, onFound }: { board: Board; onFound: (id: string) => void }) {
  const [query, setQuery] = useState('');
  const [player, setPlayer] = useState<PlayerView>();
  const [error, setError] = useState<string>();
  const search = async (e: Event) => {
    e.preventDefault();
    try {
      const p = await get<PlayerView>(`/leaderboards/${encodeURIComponent(board.id)}/players/${encodeURIComponent(query.trim())}`, { around: 5 });
      setPlayer(p);
      setError(undefined);
      onFound(p.playerId);
    } catch (err) {
      setPlayer(undefined);
      setError(message(err));
    }
  };
  return (
    <Section title="Find a player">
      <form class="toolbar" onSubmit={search} role="search">
        <label for="player">Player id</label>
        <input id="player" value={query} required onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={error} />
      {player ? (
        <>
          <div class="stats" aria-live="polite">
            <Stat label="Score" value={player.score.toLocaleString('en-US')} />
            <Stat label="Rank" value={`${fmt.int(player.rank)} of ${fmt.int(player.total)}`} />
            <Stat label="Percentile" value={`${player.percentile.toFixed(2)}`} />
          </div>
          <Ranking entries={player.neighbours} highlight={player.playerId} caption={`${player.playerId} and the players around them`} />
        </>
      ) : null}
    </Section>
  );
}

function Seasons({ board }: { board: Board }) {
  const archived = Array.from({ length: Math.min(board.season - 1, 20) }, (_, i) => board.season - 1 - i);
  const [season, setSeason] = useState(archived[0]);
  const [offset, setOffset] = useState(0);
  const page = useLoad(() => get<Page>(`/leaderboards/${encodeURIComponent(board.id)}/seasons/${season}/top`, { limit: PAGE, offset }), [season, offset]);
  const total = page.value?.total ?? 0;
  return (
    <Section title="Archived seasons">
      <div class="toolbar">
        <label for="season">Season</label>
        <select id="season" value={season} onChange={(e) => (setSeason(Number((e.target as HTMLSelectElement).value)), setOffset(0))}>
          {archived.map((s) => (
            <option key={s} value={s}>
              season {s}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={page.error} />
      <Ranking entries={page.value?.entries ?? []} caption={`season ${season}: ranks ${offset + 1}–${Math.min(offset + PAGE, total)} of ${fmt.int(total)}`} />
      <Pager offset={offset} total={total} onChange={setOffset} />
    </Section>
  );
}

function Pager({ offset, total, onChange }: { offset: number; total: number; onChange: (offset: number) => void }) {
  return (
    <div class="pager">
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - PAGE))}>
        ← Previous
      </button>
      <button type="button" disabled={offset + PAGE >= total} onClick={() => onChange(offset + PAGE)}>
        Next →
      </button>
    </div>
  );
}

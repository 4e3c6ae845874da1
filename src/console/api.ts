/** The console's only way to the server: the public /api/v1 API with the key the user entered. */

export type Role = 'client' | 'service' | 'admin';
const RANK: Record<Role, number> = { client: 1, service: 2, admin: 3 };
/** Roles nest (admin ⊇ service ⊇ client), as on the server. */
export const can = (held: Role | null, needed: Role) => held !== null && RANK[held] >= RANK[needed];

const KEY_STORAGE = 'tetrad.apiKey';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  save: (key: string) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined>;

function url(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return `/api/v1${path}${s ? `?${s}` : ''}`;
}

export async function api<T>(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string>; key?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'x-api-key': opts.key ?? session.key() ?? '', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url(path, opts.query), { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, data?.code, data?.detail ?? data?.title ?? `HTTP ${res.status}`);
  return data as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, { query });

export type StreamState = 'connecting' | 'live' | 'retrying';

/**
 * Follows a server-sent-events endpoint. EventSource cannot send the X-API-Key header, so this
 * reads the same text/event-stream through fetch; it reconnects after a drop. Returns a stop function.
 */
export function follow(path: string, on: Record<string, (data: any) => void>, onState?: (s: StreamState) => void): () => void {
  const abort = new AbortController();
  let retryTimer: number | undefined;
  const run = async () => {
    onState?.('connecting');
    try {
      const res = await fetch(url(path), { headers: { 'x-api-key': session.key() ?? '', accept: 'text/event-stream' }, signal: abort.signal });
      if (!res.ok || !res.body) throw new ApiError(res.status, undefined, `stream ${path}: HTTP ${res.status}`);
      onState?.('live');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          dispatch(buf.slice(0, cut), on);
          buf = buf.slice(cut + 2);
        }
      }
    } catch (e) {
      if (abort.signal.aborted) return;
    }
    if (abort.signal.aborted) return;
    onState?.('retrying');
    retryTimer = window.setTimeout(run, 2000);
  };
  void run();
  return () => {
    abort.abort();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
  };
}

function dispatch(block: string, on: Record<string, (data: any) => void>): void {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return;
  on[event]?.(JSON.parse(data.join('\n')));
}

/**
 * Rejects with `message` when `p` has not settled within `ms`, and clears its timer either way.
 * Probes and shutdown steps use it: a client that queues commands while its server is down would
 * otherwise never settle.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// A closed-loop HTTP load generator on an undici Pool: `connections` loops, each sending the
// next request as soon as the previous response is fully read. Used where wrk cannot go:
// wrk 4 waits for a body after a HEAD response that carries Content-Length, and hangs.
import { Pool, type Dispatcher } from 'undici';
import { elapsedSeconds, percentile } from '../stats.js';

export interface LoadResult {
  requests: number;
  non200: number;
  firstBadStatus: number;
  errors: number;
  firstError: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export async function httpLoad(
  origin: string,
  path: string,
  method: Dispatcher.HttpMethod,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const latenciesMs: number[] = [];
  let non200 = 0;
  let firstBadStatus = 0;
  let errors = 0;
  let firstError = '';
  const deadline = Date.now() + seconds * 1000;
  const start = process.hrtime.bigint();
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (Date.now() < deadline) {
          const t0 = process.hrtime.bigint();
          try {
            const res = await pool.request({ origin, path, method, headers });
            await res.body.dump();
            if (res.statusCode !== 200) {
              non200++;
              firstBadStatus ||= res.statusCode;
            }
            latenciesMs.push(elapsedSeconds(t0) * 1000);
          } catch (err) {
            errors++;
            firstError ||= (err as Error).message;
          }
        }
      }),
    );
  } finally {
    await pool.close();
  }
  const wall = elapsedSeconds(start);
  return {
    requests: latenciesMs.length,
    non200,
    firstBadStatus,
    errors,
    firstError,
    rps: latenciesMs.length / wall,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
  };
}

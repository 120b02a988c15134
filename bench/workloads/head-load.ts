// A closed-loop HEAD load generator on bare sockets: `connections` keep-alive connections, each
// sending the next request as soon as the previous response's header block has arrived (a HEAD
// response has no body, whatever its Content-Length says). It does no more work per request than
// finding the end of the header block and reading the status code, so, unlike a full HTTP client,
// it stays far from being the bottleneck. Any non-200, closed connection or socket error counts.
import net from 'node:net';
import { elapsedSeconds, percentile } from '../stats.js';
import type { LoadResult } from './http-load.js';

export async function headLoad(origin: string, path: string, headers: Record<string, string>, connections: number, seconds: number): Promise<LoadResult> {
  const url = new URL(origin);
  const request = Buffer.from(
    `HEAD ${path} HTTP/1.1\r\nHost: ${url.host}\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n',
    'latin1',
  );
  const latenciesMs: number[] = [];
  const result = { non200: 0, firstBadStatus: 0, errors: 0, firstError: '' };
  const fail = (message: string) => {
    result.errors++;
    result.firstError ||= message;
  };
  const deadline = Date.now() + seconds * 1000;
  const start = process.hrtime.bigint();

  const loop = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname);
      socket.setNoDelay(true);
      let pending = '';
      let sentAt = 0n;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        socket.destroy();
        resolve();
      };
      const send = () => {
        if (Date.now() >= deadline) return finish();
        sentAt = process.hrtime.bigint();
        socket.write(request);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        let end: number;
        while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + 4);
          latenciesMs.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
          const status = Number(head.slice(9, 12));
          if (status !== 200) {
            result.non200++;
            result.firstBadStatus ||= status;
          }
          if (/\r\nconnection: *close/i.test(head)) {
            fail('server closed the keep-alive connection');
            return finish();
          }
          send();
        }
      });
      socket.on('error', (err) => {
        fail(err.message);
        finish();
      });
      socket.on('close', () => {
        if (!finished && Date.now() < deadline) fail('connection closed by the server');
        finish();
      });
    });

  await Promise.all(Array.from({ length: connections }, loop));
  const wall = elapsedSeconds(start);
  return {
    requests: latenciesMs.length,
    ...result,
    rps: latenciesMs.length / wall,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
  };
}

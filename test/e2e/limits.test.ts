// Hostile clients: connections that say nothing, send headers a byte at a time, stop sending a body,
// or announce an absurd body, are cut off by berth's timeouts and limits, while normal traffic goes on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.js';
import { blobPath, errorCodes, request, startUpload, uploadBlob } from '../helpers/oci.js';

const REPO = 'limits/target';
const TIMEOUT_SECONDS = 2;
const PER_CLIENT = 450;
let b: Berth;
let layer: { digest: string; data: Buffer };

before(async () => {
  b = await startBerth({
    env: {
      BERTH_CREATE_ON_PUSH: 'true',
      BERTH_HEADERS_TIMEOUT: String(TIMEOUT_SECONDS),
      BERTH_INACTIVITY_TIMEOUT: String(TIMEOUT_SECONDS),
      BERTH_MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT),
    },
  });
  await b.createRepository(REPO);
  const data = randomBytes(256 * 1024);
  layer = { digest: (await uploadBlob(b, REPO, data)).digest, data };
});

after(async () => {
  await b?.destroy();
});

/** A raw connection to berth that records when the server closed it. */
function connect(): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  const url = new URL(b.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const opened = Date.now();
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - opened)));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

function authHeader(): string {
  return b.authHeader ? `Authorization: ${b.authHeader}\r\n` : '';
}

async function timedPull(): Promise<number> {
  const started = performance.now();
  const res = await request(b, 'GET', blobPath(REPO, layer.digest));
  assert.equal(res.status, 200);
  assert.equal(res.body.length, layer.data.length);
  return performance.now() - started;
}

describe('connection timeouts', () => {
  it('200 silent and 200 slow-header connections are closed within the timeouts while pulls keep their latency', { timeout: 60_000 }, async () => {
    const quiet = await timedPull();
    const silent = await Promise.all(Array.from({ length: 200 }, () => connect()));
    const slow = await Promise.all(Array.from({ length: 200 }, () => connect()));
    const drips: NodeJS.Timeout[] = [];
    for (const { socket } of slow) {
      socket.write(`GET ${blobPath(REPO, layer.digest)} HTTP/1.1\r\n`);
      drips.push(setInterval(() => socket.write('X-Slow: y\r\n'), 300));
    }
    try {
      const busy = [];
      for (let i = 0; i < 5; i++) busy.push(await timedPull());
      const all = await Promise.all([...silent, ...slow].map((c) => c.closed));
      const slowest = Math.max(...all);
      assert.ok(slowest < (TIMEOUT_SECONDS + 3) * 1000, `every connection closed within the timeout (slowest ${slowest} ms)`);
      const median = busy.sort((x, y) => x - y)[2]!;
      assert.ok(median < Math.max(500, quiet * 20), `pulls stay fast under the attack: ${median.toFixed(1)} ms (quiet ${quiet.toFixed(1)} ms)`);
    } finally {
      drips.forEach(clearInterval);
    }
  });

  it('a body that stops arriving is cut off; a slow body that keeps moving is not', { timeout: 60_000 }, async () => {
    const session = await startUpload(b, REPO);
    const stalled = await connect();
    const path = new URL(session.location, b.url).pathname + new URL(session.location, b.url).search;
    stalled.socket.write(`PATCH ${path} HTTP/1.1\r\nHost: x\r\n${authHeader()}Content-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\nabc`);
    const cutAfter = await stalled.closed;
    assert.ok(cutAfter >= TIMEOUT_SECONDS * 1000 - 100 && cutAfter < (TIMEOUT_SECONDS + 3) * 1000, `cut after ${cutAfter} ms`);

    const moving = await connect();
    const fresh = await startUpload(b, REPO);
    const freshPath = new URL(fresh.location, b.url).pathname + new URL(fresh.location, b.url).search;
    const bytes = 8;
    const answer = new Promise<string>((resolve) => {
      let text = '';
      moving.socket.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    moving.socket.write(`PATCH ${freshPath} HTTP/1.1\r\nHost: x\r\n${authHeader()}Content-Type: application/octet-stream\r\nContent-Length: ${bytes}\r\n\r\n`);
    // One byte every 0.6 s: slower than the whole timeout overall, but never idle that long.
    for (let i = 0; i < bytes; i++) {
      await new Promise((r) => setTimeout(r, 600));
      moving.socket.write('z');
    }
    assert.match(await answer, /^HTTP\/1\.1 202 /);
    moving.socket.destroy();
  });

  it('one client address cannot hold more than its share of connections', { timeout: 60_000 }, async () => {
    const held = await Promise.all(Array.from({ length: PER_CLIENT + 20 }, () => connect()));
    const early = await Promise.all(held.map((c) => Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 500))])));
    const refused = early.filter((t) => t >= 0).length;
    assert.ok(refused >= 20, `the connections beyond the cap are closed at once (${refused})`);
    held.forEach((c) => c.socket.destroy());
    await Promise.all(held.map((c) => c.closed));
    await timedPull();
  });
});

describe('limits checked before work is done', () => {
  it('an absurd Content-Length on a chunk or a one-request upload is refused at once with SIZE_INVALID 413', { timeout: 60_000 }, async () => {
    const session = await startUpload(b, REPO);
    for (const [method, target] of [
      ['PATCH', session.location],
      ['POST', `/v2/${REPO}/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`],
    ] as const) {
      const conn = await connect();
      const url = new URL(target, b.url);
      const started = Date.now();
      const answer = new Promise<string>((resolve) => {
        let text = '';
        conn.socket.on('data', (d: Buffer) => {
          text += d.toString();
          if (text.includes('}]}')) resolve(text);
        });
      });
      conn.socket.write(
        `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\n${authHeader()}Content-Type: application/octet-stream\r\nContent-Length: 1000000000000000\r\n\r\nabc`,
      );
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 413 /, `${method}: ${text.split('\r\n')[0]}`);
      assert.match(text, /"code":"SIZE_INVALID"/);
      assert.ok(Date.now() - started < 1000, `${method} refused at once`);
      conn.socket.destroy();
    }
    const status = await request(b, 'GET', session.location);
    assert.equal(status.status, 204, 'the upload session is still usable');
    assert.equal(status.headers.get('range'), '0-0');
    assert.deepEqual(errorCodes(await request(b, 'GET', blobPath(REPO, `sha256:${'0'.repeat(64)}`))), ['BLOB_UNKNOWN']);
  });
});

describe('readiness', () => {
  it('/readyz is ready while the stores answer and the disk has room; it reports low disk before it is full', { timeout: 60_000 }, async () => {
    const ready = await fetch(`${b.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ready: boolean; metadata: string; freeBytes: number; lowDisk: boolean };
    assert.equal(body.ready, true);
    assert.equal(body.metadata, 'ok');
    assert.ok(body.freeBytes > 0);

    const cramped = await startBerth({ env: { BERTH_MIN_FREE_BYTES: String(Number.MAX_SAFE_INTEGER) } });
    try {
      const low = await fetch(`${cramped.url}/readyz`);
      assert.equal(low.status, 503);
      const lowBody = (await low.json()) as { ready: boolean; lowDisk: boolean };
      assert.equal(lowBody.ready, false);
      assert.equal(lowBody.lowDisk, true);
      assert.equal((await fetch(`${cramped.url}/healthz`)).status, 200, 'still alive');
    } finally {
      await cramped.destroy();
    }
  });
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { observedServerOptions, observeRequests, requestRecord, type RequestFigures, type RequestRecord } from '../../src/doors/http/request-record.js';

async function withServer(seen: Array<[RequestRecord, RequestFigures]>, fn: (port: number) => Promise<void>): Promise<void> {
  const server = createServer(observedServerOptions, observeRequests((req, res) => {
    const record = requestRecord(req);
    record.door = 'oci';
    record.action = 'push blob';
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'Content-Length': 5 });
      res.end('hello');
    });
  }, [(r, f) => seen.push([r, f])]));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function send(port: number, agent: import('node:http').Agent, method: string, path: string, body: Buffer): Promise<{ headers: import('node:http').IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { 'User-Agent': 'test-agent/1', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('each request gets a record whose id is in the response, and figures per request on a kept-alive connection', async () => {
  const seen: Array<[RequestRecord, RequestFigures]> = [];
  await withServer(seen, async (port) => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const a = await send(port, agent, 'PUT', '/v2/x/blobs/uploads/1?digest=sha256:ab', Buffer.alloc(10_000));
    const b = await send(port, agent, 'POST', '/', Buffer.alloc(100));
    await new Promise((r) => setTimeout(r, 50));
    agent.destroy();
    assert.equal(seen.length, 2);
    assert.equal(a.headers['x-request-id'], seen[0]![0].id);
    assert.equal(b.headers['x-amzn-requestid'], seen[1]![0].id, 'AWS APIs carry the id as x-amzn-RequestId');
    assert.notEqual(seen[0]![0].id, seen[1]![0].id);
    const [first, second] = [seen[0]![1], seen[1]![1]];
    assert.equal(first.status, 201);
    assert.equal(first.path, '/v2/x/blobs/uploads/1');
    assert.equal(first.userAgent, 'test-agent/1');
    assert.equal(first.clientIp, '127.0.0.1');
    assert.ok(first.bytesIn > 10_000 && first.bytesIn < 10_400, `bytes in ${first.bytesIn}`);
    assert.ok(second.bytesIn > 100 && second.bytesIn < 400, `second request counted alone: ${second.bytesIn}`);
    assert.ok(first.bytesOut > 5 && first.bytesOut < 400);
    assert.ok(first.completed);
    assert.equal(seen[0]![0].action, 'push blob');
  });
});

test('layer download grants stay out of the logged path', async () => {
  const seen: Array<[RequestRecord, RequestFigures]> = [];
  await withServer(seen, async (port) => {
    const { Agent } = await import('node:http');
    const agent = new Agent();
    await send(port, agent, 'GET', '/layer-downloads/secret-grant.sig', Buffer.alloc(0));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen[0]![1].path, '/layer-downloads/…');
  });
});

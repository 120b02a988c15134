import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { requestLine, requestLogObserver } from '../../src/doors/http/request-log.js';
import type { RequestFigures, RequestRecord } from '../../src/doors/http/request-record.js';

const TIME = 1_796_255_330_389;

/** The line pino writes for the same request, at a fixed time. */
function pinoLine(record: RequestRecord, figures: RequestFigures): string {
  let written = '';
  const log = pino({ level: 'info', base: undefined, timestamp: () => `,"time":${TIME}` }, { write: (s: string) => void (written += s) });
  requestLogObserver(log)(record, figures);
  return written;
}

const figures: RequestFigures = {
  status: 200,
  bytesIn: 484,
  bytesOut: 1159,
  durationSeconds: 0.000341,
  clientIp: '127.0.0.1',
  userAgent: 'docker/27.0 go/go1.22',
  method: 'GET',
  path: '/v2/team/app/manifests/latest',
  completed: true,
};
const principal = { arn: 'arn:aws:iam::111122223333:user/alice', account: '111122223333', userName: 'alice', anonymous: false } as RequestRecord['principal'];

test('the request line is the line pino writes, field for field and byte for byte', () => {
  const cases: Array<[RequestRecord, RequestFigures]> = [
    [{ id: 'req-1', startedAt: 0, door: 'oci', action: 'pull manifest', repository: 'team/app', principal }, figures],
    [{ id: 'req-2', startedAt: 0, door: 'none' }, { ...figures, status: 404, path: '/nowhere', userAgent: '', completed: false }],
    [{ id: 'req-3', startedAt: 0, door: 'ecr', action: 'PutImage', principal, errorCode: 'ImageAlreadyExistsException' }, { ...figures, method: 'POST', path: '/', status: 400, durationSeconds: 1.2345678 }],
    [{ id: 'req-4', startedAt: 0, door: 'oci', repository: 'a"b\\c' }, { ...figures, userAgent: 'quote " backslash \\ tab \t newline \n é 漢字 😀', clientIp: '::1' }],
    [{ id: 'req-5', startedAt: 0, door: 'iam', action: 'x'.repeat(150) }, { ...figures, status: 499, bytesIn: 0, bytesOut: 0, durationSeconds: 0, completed: false }],
  ];
  for (const [record, f] of cases) {
    const line = requestLine(record, f, TIME);
    assert.equal(line, pinoLine(record, f), record.id);
    assert.equal(JSON.parse(line).msg, 'request');
  }
});

test('lines reach the file whole and in order: in blocks, on flush, after a pause, and one longer than a block', async () => {
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const { openSync, closeSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { LineWriter } = await import('../../src/runtime/line-writer.js');
  const dir = await mkdtemp(join(tmpdir(), 'berth-lines-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    const out = new LineWriter(fd, 50);
    const lines = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"text":"${'é漢😀'.repeat(i % 7)}"}\n`);
    for (const line of lines.slice(0, 1000)) out.write(line);
    const partly = await readFile(file, 'utf8');
    assert.ok(partly.length > 0 && partly.length < lines.slice(0, 1000).join('').length, 'full blocks are written, the rest waits');
    assert.ok(lines.join('').startsWith(partly), 'what is written is whole lines, in order');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await readFile(file, 'utf8'), lines.slice(0, 1000).join(''), 'a pause writes what waited');
    const long = `{"long":"${'x'.repeat(100_000)}"}\n`;
    for (const line of [...lines.slice(1000, 1500), long, ...lines.slice(1500)]) out.write(line);
    out.flush();
    assert.equal(await readFile(file, 'utf8'), [...lines.slice(0, 1500), long, ...lines.slice(1500)].join(''));
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
});

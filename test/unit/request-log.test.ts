import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { droppedLine, requestLine, requestLogObserver } from '../../src/doors/http/request-log.js';
import { LineWriter } from '../../src/runtime/line-writer.js';
import type { RequestFigures, RequestRecord } from '../../src/doors/http/request-record.js';

const TIME = 1_796_255_330_389;

/** The line pino writes for the same request, at a fixed time. */
function pinoLine(record: RequestRecord, figures: RequestFigures, time = TIME): string {
  let written = '';
  const log = pino({ level: 'info', base: undefined, timestamp: () => `,"time":${time}` }, { write: (s: string) => void (written += s) });
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
    [{ id: 'req-7', startedAt: 0, door: 'oci' }, { ...figures, userAgent: `long "agent" ${'y'.repeat(400)}` }],
  ];
  for (const durationSeconds of [0.0015, 0.00105, 0.002, 0.0000004, 0.0009996, 0.01, 12345.6789125, 0.1 + 0.2]) {
    cases.push([{ id: 'req-6', startedAt: 0, door: 'oci', action: 'pull manifest' }, { ...figures, durationSeconds }]);
  }
  for (const [i, [record, f]] of cases.entries()) {
    const line = requestLine(record, f, TIME + (i % 2));
    assert.equal(line, pinoLine(record, f, TIME + (i % 2)), `${record.id} in ${f.durationSeconds} s`);
    assert.equal(JSON.parse(line).msg, 'request');
  }
});

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs `body` with a fresh directory and a log file opened for writing in it; removes both after. */
async function withLogFile(body: (file: string, fd: number, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-lines-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    await body(file, fd, dir);
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

test('lines reach the file whole and in order: full blocks in the background, the rest on drain, and one longer than a block', async () => {
  await withLogFile(async (file, fd) => {
    const out = new LineWriter(fd, { flushMs: 600_000 });
    const lines = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"text":"${'é漢😀'.repeat(i % 7)}"}\n`);
    for (const line of lines.slice(0, 1000)) out.write(line);
    const firstHalf = lines.slice(0, 1000).join('');
    await until('full blocks are written', async () => (await readFile(file, 'utf8')).length > 0);
    await new Promise((r) => setTimeout(r, 50));
    const partly = await readFile(file, 'utf8');
    assert.ok(partly.length < firstHalf.length, 'the block being filled waits');
    assert.ok(firstHalf.startsWith(partly), 'what is written is whole lines, in order');
    await out.drain();
    assert.equal(await readFile(file, 'utf8'), firstHalf, 'drain writes what waited');
    const long = `{"long":"${'x'.repeat(100_000)}"}\n`;
    for (const line of [...lines.slice(1000, 1500), long, ...lines.slice(1500)]) out.write(line);
    await out.drain();
    assert.equal(await readFile(file, 'utf8'), [...lines.slice(0, 1500), long, ...lines.slice(1500)].join(''));
  });
});

test('a pause writes what waited, without a drain', async () => {
  await withLogFile(async (file, fd) => {
    const out = new LineWriter(fd, { flushMs: 50 });
    out.write('{"one":1}\n');
    out.write('{"two":2}\n');
    await until('the timer wrote the lines', async () => (await readFile(file, 'utf8')) === '{"one":1}\n{"two":2}\n');
  });
});

test('a pipe whose reader stops: nothing waits on it, lines past 4 MiB are dropped and counted, the rest arrive whole and in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-lines-'));
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // Both ends non-blocking, as stdout is when node made it a pipe: a full pipe answers EAGAIN.
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    const out = new LineWriter(writeEnd, { flushMs: 20, droppedNotice: (n) => droppedLine(n, 0) });
    const total = 60_000;
    const lines = Array.from({ length: total }, (_, i) => `{"n":${i},"pad":"${'p'.repeat(80 + (i % 50))}"}\n`);
    const started = performance.now();
    for (const line of lines) out.write(line);
    assert.ok(performance.now() - started < 5_000, 'writing lines never waits for the reader');
    // The reader comes back and reads everything.
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    /** Reads what the pipe holds now. */
    const readAvailable = () => {
      for (;;) {
        try {
          const n = readSync(readEnd, buf, 0, buf.length, null);
          if (n <= 0) return;
          chunks.push(Buffer.from(buf.subarray(0, n)));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
          throw e;
        }
      }
    };
    let done = false;
    void out.drain(60_000).then(() => (done = true));
    await until('the writer drained', async () => {
      readAvailable();
      return done;
    }, 60_000);
    readAvailable();
    const received = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l !== '');
    const notice = JSON.parse(received.at(-1)!) as { level: number; dropped: number; msg: string };
    assert.equal(notice.level, 40);
    assert.ok(notice.dropped > 0, 'some lines were dropped');
    const kept = received.slice(0, -1);
    assert.equal(kept.length + notice.dropped, total, 'every line is either written or counted as dropped');
    assert.ok(kept.length >= 4 * 1024 * 1024 / 200, 'at least 4 MiB of lines were kept');
    const numbers = kept.map((l) => (JSON.parse(l) as { n: number }).n);
    for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i]! > numbers[i - 1]!, 'in order, each line whole');
    assert.deepEqual(kept.slice(0, 100), lines.slice(0, 100).map((l) => l.slice(0, -1)), 'the first lines are kept');
  } finally {
    closeSync(writeEnd);
    closeSync(readEnd);
    await rm(dir, { recursive: true, force: true });
  }
});

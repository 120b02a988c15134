// The machine limits that bound the throughput rows, measured in the same run:
// one core of sha256 (node crypto), durable sequential write to the data dir's filesystem,
// and loopback TCP copy between two processes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomPattern } from './random-blob.js';
import { settleDisk } from './settle.js';
import { elapsedSeconds, mbPerSecond, median } from './stats.js';

export interface MachineLimits {
  sha256MBps: number;
  /** The faster of the two durable ways to write below. */
  diskWriteMBps: number;
  /** Through the page cache: fdatasync every 8 MiB, fsync at the end. */
  diskBufferedMBps: number;
  /** O_DIRECT, aligned writes, fsync at the end (0 where the filesystem refuses O_DIRECT). */
  diskDirectMBps: number;
  loopbackMBps: number;
}

const WRITE_SLICE = 4 * 1024 * 1024;

function sha256Throughput(bytes: number): number {
  const pattern = randomPattern();
  const start = process.hrtime.bigint();
  const hash = createHash('sha256');
  for (let done = 0; done < bytes; done += WRITE_SLICE) {
    const at = done % pattern.length;
    hash.update(pattern.subarray(at, at + Math.min(WRITE_SLICE, bytes - done)));
  }
  hash.digest();
  return mbPerSecond(bytes, elapsedSeconds(start));
}

/** Durable sequential write through the page cache: 4 MiB writes, an fdatasync every 8 MiB, an fsync at the end. */
async function bufferedWriteThroughput(dir: string, bytes: number): Promise<number> {
  const file = path.join(dir, `disk-probe-${process.pid}`);
  const pattern = randomPattern();
  const handle = await open(file, 'w');
  try {
    const start = process.hrtime.bigint();
    for (let done = 0; done < bytes; done += WRITE_SLICE) {
      const at = done % pattern.length;
      await handle.write(pattern, at, Math.min(WRITE_SLICE, bytes - done));
      if ((done / WRITE_SLICE) % 2 === 1) await handle.datasync();
    }
    await handle.sync();
    return mbPerSecond(bytes, elapsedSeconds(start));
  } finally {
    await handle.close();
    await rm(file, { force: true });
  }
}

/**
 * Durable sequential write around the page cache: O_DIRECT, 4 MiB writes from page-aligned memory
 * (a WebAssembly memory), two in flight, an fsync at the end. 0 if the filesystem refuses O_DIRECT.
 */
async function directWriteThroughput(dir: string, bytes: number): Promise<number> {
  const file = path.join(dir, `disk-probe-direct-${process.pid}`);
  const pages = (2 * WRITE_SLICE) / 65536;
  const aligned = Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer);
  const pattern = randomPattern();
  pattern.copy(aligned, 0, 0, aligned.length);
  let handle;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o644);
  } catch {
    return 0;
  }
  try {
    const start = process.hrtime.bigint();
    const inFlight: Promise<unknown>[] = [];
    for (let done = 0, i = 0; done < bytes; done += WRITE_SLICE, i++) {
      inFlight.push(handle.write(aligned, (i % 2) * WRITE_SLICE, Math.min(WRITE_SLICE, bytes - done), done));
      if (inFlight.length === 2) await inFlight.shift();
    }
    await Promise.all(inFlight);
    await handle.sync();
    return mbPerSecond(bytes, elapsedSeconds(start));
  } finally {
    await handle.close();
    await rm(file, { force: true });
  }
}

/** A sink in a separate node process (so sender and receiver each get a core, like client and server). */
const SINK = `
const net = require('node:net');
const server = net.createServer((socket) => {
  let n = 0;
  socket.on('data', (chunk) => { n += chunk.length; });
  socket.on('end', () => { socket.end(String(n)); server.close(); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function loopbackThroughput(bytes: number): Promise<number> {
  const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    sink.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    sink.once('error', reject);
  });
  const pattern = randomPattern();
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const start = process.hrtime.bigint();
  const reply = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
  for (let done = 0; done < bytes; done += WRITE_SLICE) {
    const at = done % pattern.length;
    if (!socket.write(pattern.subarray(at, at + Math.min(WRITE_SLICE, bytes - done)))) {
      await new Promise((resolve) => socket.once('drain', resolve));
    }
  }
  socket.end();
  const received = Number(await reply);
  const seconds = elapsedSeconds(start);
  sink.kill();
  if (received !== bytes) throw new Error(`loopback probe: sent ${bytes} bytes, sink received ${received}`);
  return mbPerSecond(bytes, seconds);
}

/** Median of three runs of each probe, over `bytes` (capped at 1 GiB); the disk probe settles first, as pushes do. */
export async function measureLimits(dataDir: string, bytes: number, settleSeconds: number): Promise<MachineLimits> {
  const size = Math.min(bytes, 1024 * 1024 * 1024);
  const sha: number[] = [];
  const buffered: number[] = [];
  const direct: number[] = [];
  const tcp: number[] = [];
  for (let i = 0; i < 3; i++) {
    sha.push(sha256Throughput(size));
    await settleDisk(settleSeconds);
    buffered.push(await bufferedWriteThroughput(dataDir, size));
    await settleDisk(settleSeconds);
    direct.push(await directWriteThroughput(dataDir, size));
    tcp.push(await loopbackThroughput(size));
  }
  const diskBufferedMBps = median(buffered);
  const diskDirectMBps = median(direct);
  return { sha256MBps: median(sha), diskWriteMBps: Math.max(diskBufferedMBps, diskDirectMBps), diskBufferedMBps, diskDirectMBps, loopbackMBps: median(tcp) };
}

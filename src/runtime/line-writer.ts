import { fstatSync, write } from 'node:fs';

const BLOCK_BYTES = 16 * 1024;
/** Filled blocks waiting for the descriptor at most (4 MiB); past that its reader is not keeping up. */
const MAX_QUEUED_BLOCKS = 256;
/** Written blocks kept for reuse. */
const SPARE_BLOCKS = 4;
/** Bytes a pipe or socket takes in one write without another writer's bytes landing inside (PIPE_BUF). */
const ATOMIC_PIPE_WRITE = 4096;
const RETRY_MS = 10;
const NEWLINE = 0x0a;

interface Queued {
  bytes: Buffer;
  /** Written up to here. */
  start: number;
  lines: number;
  /** The writer's own block these bytes are in, reused once they are written. */
  owner?: Buffer;
}

export interface LineWriterOptions {
  /** A line may wait this long before it is written. */
  flushMs?: number;
  /** The line written once the reader has caught up again, saying how many lines were dropped. */
  droppedNotice?: (dropped: number) => string;
}

/**
 * Text lines written to a file descriptor in blocks, off the calling thread. Each line is encoded
 * at once into a buffer outside the JS heap; a full block (or whatever waited `flushMs`) is written
 * by libuv's thread pool, one write at a time and in order. A busy server thus neither makes a write
 * call per line, nor keeps lines alive as strings until a block is full (strings held across
 * collections get copied and promoted), nor waits for the file: a synchronous write per block measured
 * most of the request log's cost on the request thread.
 *
 * To a pipe or socket, blocks go out in writes of at most PIPE_BUF bytes that end on a line, so lines
 * of other writers on the same descriptor never land inside one. When the descriptor stops taking
 * bytes (a reader that stopped reading), at most MAX_QUEUED_BLOCKS wait; lines beyond that are
 * dropped and counted, and `droppedNotice` says so once the reader has caught up.
 */
export class LineWriter {
  private block: Buffer = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private used = 0;
  private lines = 0;
  private readonly queue: Queued[] = [];
  private readonly spare: Buffer[] = [];
  private writing = false;
  private timer?: NodeJS.Timeout;
  private failed = false;
  private dropped = 0;
  private readonly idle: Array<() => void> = [];
  private readonly flushMs: number;
  private readonly pipeLike: boolean;

  constructor(
    private readonly fd: number,
    private readonly options: LineWriterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 1000;
    let pipeLike = false;
    try {
      const stat = fstatSync(fd);
      pipeLike = stat.isFIFO() || stat.isSocket();
    } catch {
      // An unusable descriptor fails on the first write, and says so there.
    }
    this.pipeLike = pipeLike;
  }

  write(line: string): void {
    if (this.failed) return;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.used + line.length * 3 > BLOCK_BYTES) {
      this.flush();
      if (line.length * 3 > BLOCK_BYTES) return this.enqueue({ bytes: Buffer.from(line), start: 0, lines: 1 });
    }
    this.used += this.block.write(line, this.used);
    this.lines++;
    this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
  }

  /** Hands what is buffered to the writes; they finish in the background. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used === 0) return;
    const full = { bytes: this.block.subarray(0, this.used), start: 0, lines: this.lines, owner: this.block };
    this.block = this.spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
    this.used = 0;
    this.lines = 0;
    this.enqueue(full);
  }

  /**
   * Flushes and resolves once every line handed over is written (or could not be), or after
   * `maxWaitMs`: a reader that stopped reading must not keep the server from shutting down.
   */
  drain(maxWaitMs = 2000): Promise<void> {
    this.flush();
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxWaitMs).unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private enqueue(item: Queued): void {
    if (this.failed) return;
    if (this.queue.length >= MAX_QUEUED_BLOCKS) {
      this.dropped += item.lines;
      this.recycle(item);
    } else {
      this.queue.push(item);
    }
    this.pump();
  }

  private pump(): void {
    if (this.writing) return;
    if (this.dropped > 0 && this.queue.length === 0 && this.options.droppedNotice) {
      const notice = this.options.droppedNotice(this.dropped);
      this.dropped = 0;
      this.queue.push({ bytes: Buffer.from(notice), start: 0, lines: 1 });
    }
    const next = this.queue[0];
    if (!next || this.failed) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.writing = true;
    const end = this.writeEnd(next);
    write(this.fd, next.bytes, next.start, end - next.start, null, (err, written) => {
      this.writing = false;
      if (err) {
        if (err.code === 'EAGAIN') {
          // A non-blocking pipe is full: try again shortly, without holding anything up meanwhile.
          this.writing = true;
          setTimeout(() => {
            this.writing = false;
            this.pump();
          }, RETRY_MS);
          return;
        }
        // The descriptor is gone (closed pipe, full disk): say so once, and keep serving.
        process.emitWarning(`request log: cannot write to fd ${this.fd}: ${String(err)}`);
        this.failed = true;
        for (const item of this.queue.splice(0)) this.recycle(item);
        return this.pump();
      }
      next.start += written;
      if (next.start >= next.bytes.length) this.recycle(this.queue.shift()!);
      this.pump();
    });
  }

  /** Where this write of `item` ends: all of it to a file; to a pipe, whole lines within PIPE_BUF. */
  private writeEnd(item: Queued): number {
    const end = item.bytes.length;
    if (!this.pipeLike || end - item.start <= ATOMIC_PIPE_WRITE) return end;
    const lastNewline = item.bytes.lastIndexOf(NEWLINE, item.start + ATOMIC_PIPE_WRITE - 1);
    // A line longer than PIPE_BUF goes out whole.
    if (lastNewline < item.start) {
      const lineEnd = item.bytes.indexOf(NEWLINE, item.start);
      return lineEnd === -1 ? end : lineEnd + 1;
    }
    return lastNewline + 1;
  }

  private recycle(item: Queued): void {
    if (item.owner && this.spare.length < SPARE_BLOCKS) this.spare.push(item.owner);
  }
}

import { writeSync } from 'node:fs';

const BLOCK_BYTES = 16 * 1024;
const WAIT = new Int32Array(new SharedArrayBuffer(4));

/**
 * Text lines written to a file descriptor in blocks. Each line is encoded at once into one
 * buffer outside the JS heap and the block is written when full (or on `flush`), so a busy server
 * neither makes a write call per line nor keeps lines alive as strings until a block is full
 * (strings held across collections get copied and promoted, which measured dearer than the writes).
 * Writes are synchronous and whole: a full pipe is waited for, not dropped.
 */
export class LineWriter {
  private readonly block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private used = 0;
  private timer?: NodeJS.Timeout;
  private failed = false;

  /** `flushMs`: a line waits at most this long to be written. */
  constructor(
    private readonly fd: number,
    private readonly flushMs = 1000,
  ) {}

  write(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.used + line.length * 3 > BLOCK_BYTES) {
      this.flush();
      if (line.length * 3 > BLOCK_BYTES) return this.writeOut(Buffer.from(line));
    }
    this.used += this.block.write(line, this.used);
    this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used === 0) return;
    const used = this.used;
    this.used = 0;
    this.writeOut(this.block.subarray(0, used));
  }

  private writeOut(bytes: Buffer): void {
    for (let done = 0; done < bytes.length; ) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(WAIT, 0, 0, 5); // a non-blocking pipe is full: let its reader catch up
          continue;
        }
        // The descriptor is gone (closed pipe, full disk): say so once, and keep serving.
        if (!this.failed) process.emitWarning(`request log: cannot write to fd ${this.fd}: ${String(err)}`);
        this.failed = true;
        return;
      }
    }
  }
}

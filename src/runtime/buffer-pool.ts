/**
 * Large buffers kept for reuse, so streaming a big blob through the process allocates (and leaves
 * for the garbage collector) nothing per chunk.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  /** Returns a buffer nobody references any more; beyond `keep`, it is left to the collector. */
  give(buf: Buffer): void {
    if (this.free.length < this.keep && buf.length === this.bufferBytes) this.free.push(buf);
  }
}

/**
 * Large buffers kept for reuse, so streaming a big blob through the process allocates (and leaves
 * for the garbage collector) nothing per chunk. `allocate` makes one or more buffers when the pool
 * is empty; by default a plain one.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly keep: number,
    private readonly allocate: (bytes: number) => Buffer[] = (bytes) => [Buffer.allocUnsafeSlow(bytes)],
  ) {}

  take(): Buffer {
    if (this.free.length === 0) this.free.push(...this.allocate(this.bufferBytes));
    return this.free.pop()!;
  }

  /** Returns a buffer nobody references any more; beyond `keep`, it is left to the collector. */
  give(buf: Buffer): void {
    if (this.free.length < this.keep && buf.length === this.bufferBytes) this.free.push(buf);
  }
}

/** What O_DIRECT asks of buffer addresses, file positions and lengths on any common disk. */
export const DIRECT_IO_ALIGNMENT = 4096;

const WASM_PAGE_BYTES = 65536;
const SLABS_PER_ARENA = 16;

/**
 * Fixed-size buffers at page-aligned addresses, as O_DIRECT needs. Node cannot allocate aligned
 * memory, but a WebAssembly memory starts on a page boundary: each arena is one, cut into slabs that
 * are reused and never freed, so the pool holds what peak concurrency needed.
 */
export class AlignedBufferPool {
  private readonly free: Buffer[] = [];

  constructor(readonly slabBytes: number) {
    if (slabBytes % WASM_PAGE_BYTES !== 0) throw new Error('slab size must be a multiple of 64 KiB');
  }

  take(): Buffer {
    if (this.free.length === 0) this.addArena();
    return this.free.pop()!;
  }

  give(buf: Buffer): void {
    this.free.push(buf);
  }

  private addArena(): void {
    const pages = (this.slabBytes * SLABS_PER_ARENA) / WASM_PAGE_BYTES;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    // Last slab first, so take() hands out the arena from its start and untouched pages stay unmapped.
    for (let i = SLABS_PER_ARENA - 1; i >= 0; i--) this.free.push(Buffer.from(memory.buffer, i * this.slabBytes, this.slabBytes));
  }
}

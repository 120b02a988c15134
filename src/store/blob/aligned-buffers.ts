/** What O_DIRECT asks of buffer addresses, file positions and lengths on any common disk. */
export const DIRECT_IO_ALIGNMENT = 4096;

const WASM_PAGE_BYTES = 65536;
const BUFFERS_PER_ARENA = 16;

/**
 * Buffers at page-aligned addresses, as O_DIRECT needs (an allocator for BufferPool). Node cannot
 * allocate aligned memory, but a WebAssembly memory starts on a page boundary: each call makes one
 * and cuts it into buffers; it is freed once none of them is referenced.
 */
export function pageAlignedBuffers(bytes: number): Buffer[] {
  if (bytes % WASM_PAGE_BYTES !== 0) throw new Error('aligned buffer size must be a multiple of 64 KiB');
  const pages = (bytes * BUFFERS_PER_ARENA) / WASM_PAGE_BYTES;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  // Last buffer first, so the pool hands out the arena from its start and untouched pages stay unmapped.
  return Array.from({ length: BUFFERS_PER_ARENA }, (_, i) => Buffer.from(memory.buffer, (BUFFERS_PER_ARENA - 1 - i) * bytes, bytes));
}

/**
 * Streaming gzip decoding (multi-member, as gzip and tar+gzip layers are) in bounded memory.
 * Where the system's ISA-L library (Debian's libisal2) loads, its inflater is called through the
 * koffi FFI, off the main thread: it inflated image layers about 1.7× faster than Node's zlib on
 * the bench machine, and zlib was the bottleneck of a first image scan. Elsewhere node:zlib does it.
 * Either way each call inflates at most 2 MiB of output (`INFLATE_CHUNK`), whatever a layer's size.
 */
export interface Gunzip {
  readonly engine: 'isa-l' | 'node';
  /** The decompressed bytes of `source`, chunk by chunk; a corrupt or truncated stream throws. */
  inflate(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer>;
}

/** A corrupt or truncated gzip stream. */
export class GunzipError extends Error {}

import { Transform, type TransformCallback } from 'node:stream';
import { Decompress as ZstdDecompress } from 'fzstd';
import { gunzip } from '../../../runtime/gunzip.js';

/** How a layer blob is compressed, from its first bytes (media types lie: docker ships tar+gzip as "tar"). */
export type Compression = 'gzip' | 'zstd' | 'none';

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Streaming zstd decoding through fzstd (Node 20's zlib has none); memory is bounded by the frame window. */
class ZstdStream extends Transform {
  private readonly decoder: ZstdDecompress;

  constructor() {
    super();
    this.decoder = new ZstdDecompress((chunk) => {
      this.push(Buffer.from(chunk));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      done();
    } catch (e) {
      done(new Error(`zstd: ${(e as Error).message}`));
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      done();
    } catch (e) {
      done(new Error(`zstd: ${(e as Error).message}`));
    }
  }
}

/** A pipeline stage that decompresses a layer: a stream or an async generator over the compressed chunks. */
export type Decompressor = Transform | ((source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer>);

async function* gunzipLayer(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* (await gunzip()).inflate(source);
}

/** The decompressing stage for the compression, or undefined for plain tar. */
export function decompressor(compression: Compression): Decompressor | undefined {
  if (compression === 'gzip') return gunzipLayer;
  if (compression === 'zstd') return new ZstdStream();
  return undefined;
}

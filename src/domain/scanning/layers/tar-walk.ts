import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { ScanError } from '../errors.js';
import { decompressor, sniffCompression } from './decompress.js';

export interface TarEntry {
  /** Normalized: no leading `./` or `/`, no empty segments. */
  path: string;
  type: 'file' | 'symlink' | 'hardlink' | 'directory' | 'other';
  size: number;
  mode: number;
  linkname?: string;
}

/** What the visitor wants of an entry's bytes: nothing, or each chunk as it streams by. */
export type EntryReader = ((chunk: Buffer) => void) | undefined;

export interface TarVisitor {
  /** Called for every entry; return a reader to receive its bytes (then `end` is called). */
  entry(entry: TarEntry): EntryReader;
  end?(entry: TarEntry): void | Promise<void>;
}

/** `./a//b/` → `a/b`; a path with a `..` segment is refused (it would escape the image's root). */
export function normalizeTarPath(raw: string): string {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ScanError('InvalidLayer', `layer entry escapes the root: ${JSON.stringify(raw)}`);
  return parts.join('/');
}

function entryType(t: tar.Header['type']): TarEntry['type'] {
  switch (t) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    case 'directory':
      return 'directory';
    default:
      return 'other';
  }
}

/** Prepends `head` (already read to sniff the compression) to the rest of the source. */
async function* rejoin(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length) yield head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/**
 * Appends two zero blocks after the tar stream. Some producers (umoci among them) end a layer
 * right after the last file's bytes, without its padding or the end-of-archive blocks, which
 * container runtimes accept; zeros up to the next block, then two zero blocks, complete such a tar
 * and are ignored after a complete one.
 */
function endOfArchive(): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(null, Buffer.alloc(((512 - (total % 512)) % 512) + 1024));
    },
  });
}

/**
 * Streams a layer (gzip, zstd or plain tar, told apart by its first bytes) entry by entry:
 * only what the visitor asks for is handed over, so memory stays bounded whatever the layer's size.
 * A corrupt stream or a hostile path throws ScanError('InvalidLayer').
 */
export async function walkLayer(source: AsyncIterable<Buffer>, visitor: TarVisitor): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, r.value]);
  }
  const compression = sniffCompression(head);
  const input = Readable.from(rejoin(head, it), { objectMode: false });
  const dec = decompressor(compression);
  const extract = tar.extract();
  const piping = dec ? pipeline(input, dec, endOfArchive(), extract) : pipeline(input, endOfArchive(), extract);
  piping.catch(() => undefined); // reported through the iteration below
  try {
    for await (const e of extract) {
      const entry: TarEntry = {
        path: normalizeTarPath(e.header.name),
        type: entryType(e.header.type),
        size: e.header.size ?? 0,
        mode: e.header.mode ?? 0,
        ...(e.header.linkname ? { linkname: e.header.linkname } : {}),
      };
      const reader = entry.path === '' ? undefined : visitor.entry(entry);
      if (reader) {
        for await (const chunk of e) reader(chunk as Buffer);
        await visitor.end?.(entry);
      } else {
        e.resume();
        await new Promise<void>((resolve, reject) => {
          e.once('end', resolve);
          e.once('error', reject);
        });
      }
    }
    await piping;
  } catch (err) {
    input.destroy();
    if (err instanceof ScanError) throw err;
    throw new ScanError('InvalidLayer', `unreadable layer (${compression}): ${(err as Error).message}`);
  }
}

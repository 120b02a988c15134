import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';

const WINDOW_BYTES = 1024 * 1024;
const WINDOWS = 4;

async function readFully(file: FileHandle, into: Buffer, position: number): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of zip file');
    done += bytesRead;
  }
}

/**
 * A zip file read through a few cached 1 MiB windows. yauzl reads a zip in small pieces (each
 * central directory record, each local header, each entry's data), alternating between the
 * directory at the end and the entries at the start; an OSV all.zip holds tens of thousands of
 * small records, and a file read per piece made the import wait on the disk thread pool.
 */
class WindowedZipReader extends yauzl.RandomAccessReader {
  /** Most recently used first. */
  private windows: Array<{ start: number; data: Buffer }> = [];

  constructor(
    private readonly file: FileHandle,
    private readonly size: number,
  ) {
    super();
  }

  /** Bytes [start, end), at most one window long. */
  private async slice(start: number, end: number): Promise<Buffer> {
    const at = this.windows.findIndex((w) => start >= w.start && end <= w.start + w.data.length);
    let window = at >= 0 ? this.windows.splice(at, 1)[0]! : undefined;
    if (!window) {
      const data = Buffer.allocUnsafe(Math.max(end - start, Math.min(WINDOW_BYTES, this.size - start)));
      await readFully(this.file, data, start);
      window = { start, data };
    }
    this.windows.unshift(window);
    if (this.windows.length > WINDOWS) this.windows.pop();
    return window.data.subarray(start - window.start, end - window.start);
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const pieces = async function* (reader: WindowedZipReader) {
      for (let at = start; at < end; at += WINDOW_BYTES) yield await reader.slice(at, Math.min(end, at + WINDOW_BYTES));
    };
    return Readable.from(pieces(this), { objectMode: false });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const pieces = async () => {
      for (let done = 0; done < length; done += WINDOW_BYTES) {
        const n = Math.min(WINDOW_BYTES, length - done);
        (await this.slice(position + done, position + done + n)).copy(buffer, offset + done);
      }
    };
    pieces().then(() => callback(null), (e: Error) => callback(e));
  }

  override close(callback: (err: Error | null) => void): void {
    this.windows = [];
    this.file.close().then(() => callback(null), (e: Error) => callback(e));
  }
}

/** Opens a zip for reading entry by entry (`lazyEntries`), with entry sizes checked as they are read. */
export async function openZip(path: string): Promise<yauzl.ZipFile> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    return await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(new WindowedZipReader(file, size), size, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip!))),
    );
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
}

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
  async slice(start: number, end: number): Promise<Buffer> {
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

  /** Fills `into` with the bytes from `position` on, a window at a time. */
  async readInto(into: Buffer, position: number, offset = 0, length = into.length - offset): Promise<void> {
    for (let done = 0; done < length; done += WINDOW_BYTES) {
      const n = Math.min(WINDOW_BYTES, length - done);
      (await this.slice(position + done, position + done + n)).copy(into, offset + done);
    }
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    this.readInto(buffer, position, offset, length).then(() => callback(null), (e: Error) => callback(e));
  }

  override close(callback: (err: Error | null) => void): void {
    this.windows = [];
    this.file.close().then(() => callback(null), (e: Error) => callback(e));
  }
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;

/**
 * A zip read entry by entry: the central directory through yauzl (which checks it, zip64
 * included), each entry's stored bytes straight from the file's cached windows. A read stream per
 * entry (yauzl's openReadStream) cost more than the small records themselves.
 */
export class ZipEntries {
  private done = false;

  constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly reader: WindowedZipReader,
    private readonly size: number,
  ) {}

  /** The next entry of the central directory; undefined after the last. */
  next(): Promise<yauzl.Entry | undefined> {
    if (this.done) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onEntry = (entry: yauzl.Entry) => settle(() => resolve(entry));
      const onEnd = () => settle(() => ((this.done = true), resolve(undefined)));
      const onError = (e: Error) => settle(() => reject(e));
      const settle = (then: () => void) => {
        this.zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
        then();
      };
      this.zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
      this.zip.readEntry();
    });
  }

  /** An entry's bytes as stored (deflated or not), after its local header; at most `max` bytes. Read-only. */
  async storedBytes(entry: yauzl.Entry, max: number): Promise<Buffer> {
    if ((entry.generalPurposeBitFlag & 0x1) !== 0) throw new Error('entry is encrypted');
    if (entry.compressedSize > max) throw new Error(`entry larger than ${max} bytes`);
    const at = entry.relativeOffsetOfLocalHeader;
    if (at + LOCAL_HEADER_BYTES > this.size) throw new Error('local header beyond the end of the zip');
    const header = await this.reader.slice(at, at + LOCAL_HEADER_BYTES);
    if (header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) throw new Error('invalid local header signature');
    const start = at + LOCAL_HEADER_BYTES + header.readUInt16LE(26) + header.readUInt16LE(28);
    const end = start + entry.compressedSize;
    if (end > this.size) throw new Error('entry data beyond the end of the zip');
    // A small entry is a view of its cached window (windows are dropped, never overwritten).
    if (entry.compressedSize <= WINDOW_BYTES) return this.reader.slice(start, end);
    const bytes = Buffer.allocUnsafe(entry.compressedSize);
    await this.reader.readInto(bytes, start);
    return bytes;
  }

  close(): void {
    this.zip.close();
  }
}

/** Opens a zip for reading entry by entry, with entry sizes checked against the central directory. */
export async function openZip(path: string): Promise<ZipEntries> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const reader = new WindowedZipReader(file, size);
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z!))),
    );
    return new ZipEntries(zip, reader, size);
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
}

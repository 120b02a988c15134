import type { ServerResponse } from 'node:http';
import { BufferPool } from '../../runtime/buffer-pool.js';
import type { BlobReader } from '../../domain/registry/model.js';

const BUFFERS_PER_RESPONSE = 2;

/** Read buffers shared by all responses, so a large pull allocates nothing per chunk. */
const readBuffers = new BufferPool(512 * 1024, 8);

/**
 * Streams `length` bytes from `reader` into the response, with a few reads in flight and each
 * buffer recycled once the socket has taken it. Ends the response, or destroys it if the stored
 * bytes run short, so a client never sees a truncated body as complete. Always closes the reader.
 */
export async function sendBlob(res: ServerResponse, reader: BlobReader, length: number): Promise<void> {
  const free: Buffer[] = [];
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let gone = false;
  const onClose = () => {
    gone = true;
    wake?.();
  };
  res.once('close', onClose);
  const release = (buf: Buffer) => {
    outstanding--;
    free.push(buf);
    wake?.();
  };
  const acquire = async (): Promise<Buffer | undefined> => {
    while (!gone) {
      const buf = free.pop() ?? (outstanding < BUFFERS_PER_RESPONSE ? readBuffers.take() : undefined);
      if (buf) {
        outstanding++;
        return buf;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    return undefined;
  };

  let remaining = length;
  try {
    while (remaining > 0) {
      const buf = await acquire();
      if (!buf) return;
      const n = await reader.read(remaining < buf.length ? buf.subarray(0, remaining) : buf);
      if (n === 0) throw new Error('stored blob shorter than its recorded size');
      remaining -= n;
      res.write(buf.subarray(0, n), () => release(buf));
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off('close', onClose);
    await reader.close().catch(() => undefined);
    // Buffers still held by a destroyed socket are left to the garbage collector.
    if (outstanding === 0) for (const buf of free) readBuffers.give(buf);
  }
}

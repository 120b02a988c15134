// Row: pull of the large blob pushed by the push rows, streamed into nothing. Result in MB/s.
// One untimed pull first, so both servers serve from the page cache: the row measures the server,
// not how much of a fresh blob the kernel happened to keep cached. Over TLS, `allowH2` offers HTTP/2.
import type { Blob } from '../random-blob.js';
import { RegistryClient } from '../registry-client.js';
import type { RunningServer } from '../servers.js';
import { elapsedSeconds, mbPerSecond } from '../stats.js';
import { BLOB_REPO } from './blob-push.js';

export async function pullBlob(server: RunningServer, blob: Blob, repo = BLOB_REPO, allowH2 = false): Promise<number> {
  const client = new RegistryClient(server.origin, server.authorization, 1, server.ca && { ca: server.ca, allowH2 });
  try {
    await client.pullBlob(repo, blob.digest);
    const start = process.hrtime.bigint();
    const bytes = await client.pullBlob(repo, blob.digest);
    const seconds = elapsedSeconds(start);
    if (bytes !== blob.size) throw new Error(`${server.label}: pulled ${bytes} bytes of ${blob.digest}, expected ${blob.size}`);
    return mbPerSecond(bytes, seconds);
  } finally {
    await client.close();
  }
}

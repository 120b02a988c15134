// A large layer streams through the scanner in bounded memory: the tar is generated, gzipped and
// analyzed chunk by chunk, never held whole.
import assert from 'node:assert/strict';
import { PassThrough, type Writable } from 'node:stream';
import { createGzip, constants } from 'node:zlib';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { analyzeLayer } from '../../src/domain/scanning/layers/analyze.js';

const MiB = 1024 * 1024;

/** A gzip layer holding a dpkg status file and two large files (one executable), generated as it is read. */
function largeLayer(bigBytes: number): AsyncIterable<Buffer> {
  const pack = tar.pack();
  const gzip = createGzip({ level: constants.Z_BEST_SPEED });
  pack.pipe(gzip);
  void (async () => {
    pack.entry({ name: 'etc/os-release' }, 'ID=debian\nVERSION_ID="12"\n');
    for (const [name, mode] of [['opt/blob.bin', 0o644], ['usr/bin/tool', 0o755]] as const) {
      const entry = pack.entry({ name, size: bigBytes, mode }) as unknown as Writable;
      const chunk = Buffer.alloc(MiB, 7);
      for (let sent = 0; sent < bigBytes; sent += MiB) {
        if (!entry.write(chunk)) await new Promise<void>((r) => entry.once('drain', () => r()));
      }
      entry.end();
      await new Promise<void>((r) => entry.once('finish', () => r()));
    }
    pack.entry({ name: 'var/lib/dpkg/status' }, 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b8\nSource: bash (5.2.15-2)\n\n');
    pack.finalize();
  })();
  return gzip.pipe(new PassThrough());
}

describe('scanning: large layers', () => {
  it('a 256 MiB layer (two 128 MiB files, one executable) is analyzed with RSS rising well under 100 MiB', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const facts = await analyzeLayer(largeLayer(128 * MiB));
      assert.deepEqual(facts.files.map((f) => f.path), ['etc/os-release', 'var/lib/dpkg/status']);
      assert.equal(facts.files[1]!.packages![0]!.srcVersion, '5.2.15-2');
    } finally {
      clearInterval(timer);
    }
    const rise = (peak - before) / MiB;
    assert.ok(rise < 100, `RSS rose ${rise.toFixed(1)} MiB`);
  });
});

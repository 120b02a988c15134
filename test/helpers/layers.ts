// Layer tarballs built in memory for the scanner's tests: real files from this machine (or given
// bytes) at chosen paths, with whiteouts and symlinks, gzip- or zstd-compressed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface LayerEntry {
  path: string;
  /** Bytes, or `source`, a file on this machine. */
  data?: Buffer | string;
  source?: string;
  symlink?: string;
  mode?: number;
  directory?: boolean;
}

export async function tarOf(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    if (e.symlink) pack.entry({ name: e.path, type: 'symlink', linkname: e.symlink });
    else if (e.directory) pack.entry({ name: e.path, type: 'directory', mode: 0o755 });
    else {
      const data = e.source ? readFileSync(e.source) : Buffer.from(e.data ?? '');
      pack.entry({ name: e.path, mode: e.mode ?? 0o644 }, data);
    }
  }
  pack.finalize();
  return done;
}

export async function layerOf(entries: LayerEntry[], compression: 'gzip' | 'zstd' | 'none' = 'gzip'): Promise<Buffer> {
  const plain = await tarOf(entries);
  if (compression === 'gzip') return gzipSync(plain);
  if (compression === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: plain, maxBuffer: 1 << 30 });
  return plain;
}

/** A buffer as the async byte source the scanner reads, in chunks of `size`. */
export async function* chunked(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Stanzas of this machine's dpkg status file for the named packages (real installed data). */
export function dpkgStanzas(names: string[]): string {
  const status = readFileSync('/var/lib/dpkg/status', 'utf8');
  return status
    .split('\n\n')
    .filter((s) => names.includes(/^Package: (.+)$/m.exec(s)?.[1] ?? ''))
    .map((s) => `${s.trim()}\n`)
    .join('\n');
}

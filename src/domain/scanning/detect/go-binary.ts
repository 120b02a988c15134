import type { Package } from '../model.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER = 32;
/** Module info larger than this is not a real build info blob. */
const MAX_INFO = 1 << 20;

/** Executables worth scanning: regular files with an execute bit. */
export function isExecutable(mode: number): boolean {
  return (mode & 0o111) !== 0;
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && shift < 35; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

/**
 * Finds a Go (≥ 1.18) build info blob in an executable as it streams by: the 32-byte header
 * starting `\xff Go buildinf:`, then the Go version and the module info as varint-prefixed strings.
 * Keeps only a few bytes of overlap between chunks until the magic shows up, then at most 1 MiB.
 * Older binaries (pointer-based build info) are not read.
 */
export class GoBuildInfoScanner {
  private seen = 0;
  private carry = Buffer.alloc(0);
  private found: Buffer[] | undefined;
  private foundBytes = 0;
  private abandoned = false;

  push(chunk: Buffer): void {
    if (this.abandoned) return;
    if (this.seen === 0 && chunk.length >= 4) {
      const isElf = chunk[0] === 0x7f && chunk[1] === 0x45 && chunk[2] === 0x4c && chunk[3] === 0x46;
      if (!isElf) this.abandoned = true;
    }
    this.seen += chunk.length;
    if (this.abandoned) return;
    if (this.found) {
      if (this.foundBytes < MAX_INFO) {
        this.found.push(chunk);
        this.foundBytes += chunk.length;
      }
      return;
    }
    // The magic may straddle the previous chunk and this one: that seam is searched on its own,
    // so a chunk (megabytes of an executable) is never copied to join it to the carry.
    if (this.carry.length) {
      const seam = Buffer.concat([this.carry, chunk.subarray(0, MAGIC.length - 1)]);
      const at = seam.indexOf(MAGIC);
      if (at >= 0) return this.start([seam.subarray(at), chunk.subarray(MAGIC.length - 1)]);
    }
    const at = chunk.indexOf(MAGIC);
    if (at >= 0) return this.start([chunk.subarray(at)]);
    const tail = chunk.subarray(Math.max(0, chunk.length - (MAGIC.length - 1)));
    this.carry = tail.length === MAGIC.length - 1 ? Buffer.from(tail) : Buffer.concat([this.carry, tail]).subarray(-(MAGIC.length - 1));
  }

  private start(parts: Buffer[]): void {
    this.found = parts.filter((p) => p.length > 0).map((p) => Buffer.from(p));
    this.foundBytes = this.found.reduce((n, p) => n + p.length, 0);
  }

  /** The Go version and module lines, when a build info blob was found and is in the inline form. */
  result(): { goVersion: string; modInfo: string } | undefined {
    if (!this.found) return undefined;
    const buf = Buffer.concat(this.found);
    if (buf.length < HEADER) return undefined;
    const flags = buf[15]!;
    if ((flags & 0x2) === 0) return undefined;
    const v = readVarint(buf, HEADER);
    if (!v || v.next + v.value > buf.length) return undefined;
    const goVersion = buf.toString('utf8', v.next, v.next + v.value);
    const m = readVarint(buf, v.next + v.value);
    if (!m || m.next + m.value > buf.length) return undefined;
    let mod = buf.subarray(m.next, m.next + m.value);
    mod = mod.length >= 33 && mod[mod.length - 17] === 0x0a ? mod.subarray(16, mod.length - 16) : Buffer.alloc(0);
    return { goVersion, modInfo: mod.toString('utf8') };
  }
}

/** `go1.21.0` → `1.21.0`, `go1.20` → `1.20.0`, `go1.21rc2` → `1.21.0-rc.2`; experiments after a space dropped. */
export function goToolchainVersion(v: string): string | undefined {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?/.exec(v.trim());
  if (!m) return undefined;
  const base = `${m[1]}.${m[2]}.${m[3] ?? '0'}`;
  return m[4] ? `${base}-${m[4]}.${m[5]}` : base;
}

/** Packages of a Go binary: `stdlib` at the toolchain's version, the main module and every dependency. */
export function goPackages(info: { goVersion: string; modInfo: string }, path: string): Package[] {
  const out: Package[] = [];
  const std = goToolchainVersion(info.goVersion);
  if (std) out.push({ type: 'go', name: 'stdlib', version: std, path });
  const deps: Package[] = [];
  for (const line of info.modInfo.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'mod' && f[1] && f[2] && f[2] !== '(devel)') out.push({ type: 'go', name: f[1], version: f[2], path });
    else if (f[0] === 'dep' && f[1] && f[2]) deps.push({ type: 'go', name: f[1], version: f[2], path });
    else if (f[0] === '=>' && f[1] && f[2] && deps.length > 0) deps[deps.length - 1] = { type: 'go', name: f[1], version: f[2], path };
  }
  return [...out, ...deps];
}

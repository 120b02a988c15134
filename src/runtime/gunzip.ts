import { createRequire } from 'node:module';
import { createGunzip, gzipSync } from 'node:zlib';
import { startWorkerGunzip } from './gunzip-worker-host.js';
import { GunzipError, type Gunzip } from './gunzip-engine.js';

export { GunzipError, type Gunzip };

/**
 * Output bytes per inflate call, and the most a chunk handed on holds. Each call is a round trip
 * to another thread (about 0.3 ms on a busy 2-core host): node's default (16 KiB) made those trips
 * cost more than the inflating itself, and 1 MiB ran node's zlib about 2× faster on image layers;
 * 2 MiB ran a first scan with ISA-L faster than 1 MiB and as fast as 4 MiB, with less memory. It
 * bounds the memory a layer being inflated holds (a chunk being filled, one being read).
 */
export const INFLATE_CHUNK = 2 * 1024 * 1024;
/** Inflated chunks kept ready ahead of the consumer. */
const OUTPUT_AHEAD = 3;

export const nodeGunzip: Gunzip = {
  engine: 'node',
  async *inflate(source) {
    const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
    const feeding = (async () => {
      try {
        for await (const chunk of source) {
          if (!gunzip.write(chunk)) await new Promise<void>((resolve) => gunzip.once('drain', resolve));
        }
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e as Error);
      }
    })();
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } finally {
      gunzip.destroy();
      await feeding;
    }
  },
};

/**
 * `struct inflate_state` of ISA-L's igzip_lib.h as libisal.so.2 lays it out (2.30, Debian 12):
 * the fields berth reads and writes, and the struct's size with room to spare. The self-test
 * confirms the layout on the loaded library (the CRC it leaves at `crc` must be the data's), so a
 * library whose layout moved is not used.
 */
const STATE = {
  bytes: 128 * 1024, // sizeof is 87,368 in 2.30
  nextOut: 0,
  availOut: 8,
  nextIn: 16,
  availIn: 32,
  blockState: 21160,
  crcFlag: 21172,
  crc: 21176,
} as const;
const ISAL_GZIP = 1;
const ISAL_BLOCK_FINISH = 5;
/** isal_inflate's errors, in zlib's words where zlib has the same error. */
const ISAL_ERRORS: Record<number, string> = {
  [-1]: 'invalid block',
  [-2]: 'invalid code',
  [-3]: 'invalid distance too far back',
  [-4]: 'incorrect header check',
  [-5]: 'unknown compression method',
  [-6]: 'incorrect data check',
};

type Koffi = typeof import('koffi');
type Pointer = unknown;

interface IsalLibrary {
  koffi: Koffi;
  init(state: Pointer): void;
  reset(state: Pointer): void;
  inflate(state: Pointer): number;
  inflateOffThread(state: Pointer): Promise<number>;
}

function loadIsal(libraryName: string): IsalLibrary | undefined {
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const lib = koffi.load(libraryName);
    const inflate = lib.func('int isal_inflate(void*)');
    return {
      koffi,
      init: lib.func('void isal_inflate_init(void*)'),
      reset: lib.func('void isal_inflate_reset(void*)'),
      inflate,
      inflateOffThread: (state) =>
        new Promise<number>((resolve, reject) => inflate.async(state, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)))),
    };
  } catch {
    return undefined;
  }
}

/** The most input handed to one isal_inflate call (its avail_in is 32-bit). */
const MAX_FEED = 1 << 30;

/**
 * One gzip stream's inflater: ISA-L's state in native memory, reading the caller's input buffers
 * and writing into fresh output buffers in place (no copies: koffi gives their addresses). Each
 * buffer is referenced here while a call may touch it.
 */
class IsalStream {
  private readonly state: Pointer;
  private readonly fields: DataView;
  private input: Buffer = Buffer.alloc(0);
  private output: Buffer | undefined;
  private filled = 0;
  private freed = false;

  constructor(
    private readonly lib: IsalLibrary,
    private readonly offThread: boolean,
  ) {
    this.state = lib.koffi.alloc('uint8_t', STATE.bytes);
    this.fields = new DataView(lib.koffi.view(this.state, STATE.bytes));
    this.startMember();
  }

  private address(buffer: Buffer): bigint {
    return BigInt(this.lib.koffi.address(buffer) as bigint | number);
  }

  /** Readies the state for a gzip member (the next input byte is its first). */
  startMember(): void {
    this.lib.init(this.state);
    this.fields.setUint32(STATE.crcFlag, ISAL_GZIP, true);
  }

  get availableInput(): number {
    return this.fields.getUint32(STATE.availIn, true);
  }

  /** Hands (the start of) `data` to ISA-L as its input; returns what it did not take. */
  feed(data: Buffer): Buffer {
    this.input = data.subarray(0, MAX_FEED);
    this.fields.setBigUint64(STATE.nextIn, this.address(this.input), true);
    this.fields.setUint32(STATE.availIn, this.input.length, true);
    return data.subarray(this.input.length);
  }

  /** The input ISA-L left unread (after a member ended), taken back. */
  takeInput(): Buffer {
    const left = this.input.subarray(this.input.length - this.availableInput);
    this.fields.setUint32(STATE.availIn, 0, true);
    this.input = Buffer.alloc(0);
    return left;
  }

  /** One isal_inflate call, appending to the output buffer; whether the member ended. */
  async step(): Promise<boolean> {
    this.output ??= Buffer.allocUnsafe(INFLATE_CHUNK);
    const room = INFLATE_CHUNK - this.filled;
    const inBefore = this.availableInput;
    this.fields.setBigUint64(STATE.nextOut, this.address(this.output) + BigInt(this.filled), true);
    this.fields.setUint32(STATE.availOut, room, true);
    const rc = this.offThread ? await this.lib.inflateOffThread(this.state) : this.lib.inflate(this.state);
    if (rc < 0) throw new GunzipError(ISAL_ERRORS[rc] ?? `inflate error ${rc}`);
    const produced = room - this.fields.getUint32(STATE.availOut, true);
    this.filled += produced;
    const memberEnded = this.fields.getUint32(STATE.blockState, true) === ISAL_BLOCK_FINISH;
    // isal_inflate returns when its input is used up, its output is full, or the member ended:
    // anything else (no input taken, no output made) would loop forever on hostile data.
    if (produced === 0 && !memberEnded && inBefore > 0 && this.availableInput === inBefore) throw new GunzipError('inflate made no progress');
    return memberEnded;
  }

  get outputFull(): boolean {
    return this.filled === INFLATE_CHUNK;
  }

  /** The bytes inflated since the last take, if any. */
  takeOutput(): Buffer | undefined {
    if (this.filled === 0) return undefined;
    const out = this.output!.subarray(0, this.filled);
    this.output = undefined;
    this.filled = 0;
    return out;
  }

  /** The CRC-32 ISA-L computed over the member so far (read by the self-test to confirm the layout). */
  get crc(): number {
    return this.fields.getUint32(STATE.crc, true);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lib.koffi.free(this.state);
  }
}

/**
 * Inflates `source` member after member, handing on INFLATE_CHUNK bytes at a time (less at a
 * member's end). Like node's gunzip, a zero byte where a member would start ends the stream
 * (trailing zeros are padding); a stream ending inside a member is truncated. The next chunk is
 * inflated while the consumer works on the one handed on.
 */
async function* isalInflate(lib: IsalLibrary, source: AsyncIterable<Buffer>, offThread = true, onMemberEnd?: (crc: number) => void): AsyncGenerator<Buffer> {
  const stream = new IsalStream(lib, offThread);
  const it = source[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  let sourceDone = false;
  let inMember = false;
  let fresh = true;

  const more = async (): Promise<boolean> => {
    while (pending.length === 0 && !sourceDone) {
      const r = await it.next();
      if (r.done) sourceDone = true;
      else pending = r.value;
    }
    return pending.length > 0;
  };

  /** The next chunk of output (undefined when a member ended without new output), or done. */
  const next = async (): Promise<Buffer | undefined | 'done'> => {
    if (!inMember) {
      if (!(await more())) return 'done';
      if (pending[0] === 0) {
        while (await more()) pending = Buffer.alloc(0); // padding: read to the end, ignored
        return 'done';
      }
      // The magic is checked here, as zlib does: ISA-L would wait for a whole header of garbage.
      while (pending.length < 2 && !sourceDone) {
        const r = await it.next();
        if (r.done) sourceDone = true;
        else pending = Buffer.concat([pending, r.value]);
      }
      if (pending.length >= 2 && (pending[0] !== 0x1f || pending[1] !== 0x8b)) throw new GunzipError('incorrect header check');
      if (!fresh) stream.startMember();
      fresh = false;
      inMember = true;
    }
    for (;;) {
      if (stream.availableInput === 0) {
        if (!(await more())) throw new GunzipError('unexpected end of file');
        pending = stream.feed(pending);
      }
      if (await stream.step()) {
        onMemberEnd?.(stream.crc);
        inMember = false;
        const left = stream.takeInput();
        if (left.length > 0) pending = pending.length > 0 ? Buffer.concat([left, pending]) : left;
        return stream.takeOutput();
      }
      if (stream.outputFull) return stream.takeOutput();
    }
  };

  // Inflating runs ahead of the consumer by up to OUTPUT_AHEAD chunks, so the library's thread
  // stays busy while the consumer (on the main thread) works, and the other way round.
  // Inline (in a worker thread of its own) there is nothing to overlap with.
  const outputAhead = offThread ? OUTPUT_AHEAD : 1;
  const ready: Array<Buffer | undefined | 'done'> = [];
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let stopped = false;
  const producing = (async () => {
    try {
      for (;;) {
        while (ready.length >= outputAhead && !stopped) await new Promise<void>((resolve) => (wakeProducer = resolve));
        if (stopped) return;
        const result = await next();
        ready.push(result);
        wakeConsumer?.();
        if (result === 'done') return;
      }
    } catch (e) {
      failure = { error: e };
      wakeConsumer?.();
    }
  })();
  try {
    for (;;) {
      while (ready.length === 0 && !failure) await new Promise<void>((resolve) => (wakeConsumer = resolve));
      wakeConsumer = undefined;
      if (ready.length === 0) throw failure!.error;
      const result = ready.shift()!;
      wakeProducer?.();
      wakeProducer = undefined;
      if (result === 'done') return;
      if (result) yield result;
    }
  } finally {
    // A consumer that stopped early may leave one call running on the buffers.
    stopped = true;
    wakeProducer?.();
    await producing;
    stream.free();
    if (!sourceDone) await it.return?.();
  }
}

/**
 * Before berth relies on the library: a stream of two members, one of them stored with a file name
 * and handed over a byte at a time, must come out as node decodes it, ISA-L's CRC must sit where
 * berth reads it, and a corrupt member must be refused.
 */
async function selfTest(lib: IsalLibrary): Promise<boolean> {
  try {
    const first = Buffer.from('berth checks ISA-L before it inflates layers with it\n'.repeat(50));
    const second = Buffer.from('a second member\n');
    const named = gzipSync(second);
    named[3] = 0x08; // FNAME: a header of variable length
    const gz = Buffer.concat([gzipSync(first), named.subarray(0, 10), Buffer.from('x.txt\0'), named.subarray(10)]);
    async function* bytes(data: Buffer) {
      for (let i = 0; i < data.length; i++) yield data.subarray(i, i + 1);
    }
    const crcs: number[] = [];
    const out: Buffer[] = [];
    for await (const chunk of isalInflate(lib, bytes(gz), false, (crc) => crcs.push(crc))) out.push(chunk);
    if (!Buffer.concat(out).equals(Buffer.concat([first, second]))) return false;
    if (crcs.length !== 2 || crcs[0] !== crc32(first) || crcs[1] !== crc32(second)) return false;
    const corrupt = gzipSync(first);
    corrupt[corrupt.length - 8] ^= 1; // the trailer's CRC
    try {
      for await (const _ of isalInflate(lib, bytes(corrupt), false)) void _;
      return false;
    } catch (e) {
      return e instanceof GunzipError;
    }
  } catch {
    return false;
  }
}

/**
 * ISA-L's gunzip from the named library (libisal.so.2 by default), or undefined when it is absent or
 * fails the self-test. Each call runs on a libuv thread, or with `inline` on the calling thread (for
 * a worker thread that does nothing else).
 */
export async function loadIsalGunzip(libraryName = 'libisal.so.2', opts: { inline?: boolean } = {}): Promise<Gunzip | undefined> {
  const lib = loadIsal(libraryName);
  if (!lib || !(await selfTest(lib))) return undefined;
  return { engine: 'isa-l', inflate: (source) => isalInflate(lib, source, !opts.inline) };
}

let chosen: Promise<Gunzip> | undefined;

/**
 * The fastest gunzip available here (decided once, on first use): ISA-L in a worker thread of its
 * own, else ISA-L on libuv threads, else node's zlib.
 */
export function gunzip(): Promise<Gunzip> {
  chosen ??= (async () => (await startWorkerGunzip()) ?? (await loadIsalGunzip()) ?? nodeGunzip)();
  return chosen;
}

/** CRC-32 as gzip computes it (node:zlib has crc32 only from Node 20.15). */
function crc32(data: Buffer): number {
  let crc = ~0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

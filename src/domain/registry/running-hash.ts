import { createHash, type Hash } from 'node:crypto';
import { createSHA256, type IHasher } from 'hash-wasm';
import { BufferPool } from '../../runtime/buffer-pool.js';
import { systemSha256, type SystemSha256 } from '../../runtime/sha256.js';

/** The SHA-256 of an upload as its chunks stream through. */
export interface RunningHash {
  /**
   * Takes a chunk (copied or hashed before this returns, so the caller may reuse it). A promise
   * when the hash is behind and the caller should wait for it before handing over more.
   */
  update(chunk: Buffer): Promise<void> | undefined;
  /**
   * Hashes the bytes of `body` as they pass through, then settles. The bytes come out in order but
   * may be cut anew, into buffers of the hash's own: the consumer must be done with each piece when
   * it asks for the next (a piece is reused afterwards).
   */
  through(body: AsyncIterable<Buffer>): AsyncIterable<Buffer>;
  /** Waits until everything handed over is in the hash; rejects when hashing failed. */
  settle(): Promise<void>;
  /** The digest of what went through so far (once settled); the hash may go on afterwards. */
  hex(): string;
  /** The hash's state (once settled), to be resumed by another process; undefined when it cannot be saved. */
  save(): Buffer | undefined;
}

/**
 * A new SHA-256: OpenSSL's through the system library (its state can always be saved); without it,
 * hash-wasm's when the state must be saved, else node:crypto's.
 */
export async function newRunningSha256(opts: { saveable: boolean }): Promise<RunningHash> {
  if (systemSha256) return new SystemRunningSha256(systemSha256);
  return opts.saveable ? wasmSha256() : nodeSha256();
}

/** Resumes a saved state; undefined when it is not one this version can resume (then the stored bytes are hashed again). */
export async function resumable(state: Buffer): Promise<RunningHash | undefined> {
  if (isSystemState(state)) return systemSha256 ? new SystemRunningSha256(systemSha256, state.subarray(SYSTEM_STATE_TAG.length)) : undefined;
  try {
    return await wasmSha256(state);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- OpenSSL's, off the request thread

/** Saved OpenSSL states start with this, so they are not mistaken for hash-wasm's. */
const SYSTEM_STATE_TAG = Buffer.from('openssl-sha256:');
/** The first bytes of an upload are hashed on the calling thread: small blobs never pay for a thread hop. */
const INLINE_BYTES = 1 << 20;
/**
 * Beyond that, chunks are copied into stages of STAGE_BYTES, each hashed on a libuv thread while the
 * next fills, so a large push hashes on one core while it receives, encrypts and writes on another.
 * Measured: hashing was a third of a push's CPU time on the request thread. Passed `through`, the
 * stages are also what the consumer reads, so the copy into them is the only one hashing costs.
 */
const STAGE_BYTES = 512 * 1024;
const STAGES_PER_HASH = 3;
const stages = new BufferPool(STAGE_BYTES, 4);

function isSystemState(state: Buffer): boolean {
  return state.length === SYSTEM_STATE_TAG.length + (systemSha256?.stateBytes ?? 112) && state.subarray(0, SYSTEM_STATE_TAG.length).equals(SYSTEM_STATE_TAG);
}

class SystemRunningSha256 implements RunningHash {
  private readonly state: Buffer;
  private inlineLeft = INLINE_BYTES;
  private stage: Buffer | undefined;
  private filled = 0;
  /** Stages handed to the library, oldest first, each settling once hashed. */
  private readonly hashing: Promise<void>[] = [];
  private last: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly sha: SystemSha256,
    saved?: Buffer,
  ) {
    this.state = Buffer.alloc(sha.stateBytes);
    if (saved) saved.copy(this.state);
    else sha.init(this.state);
  }

  update(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let at = 0;
    if (this.inlineLeft > 0 && !this.stage && this.hashing.length === 0) {
      at = Math.min(chunk.length, this.inlineLeft);
      this.sha.update(this.state, chunk.subarray(0, at));
      this.inlineLeft -= at;
    }
    while (at < chunk.length) {
      if (!this.stage) {
        if (this.hashing.length >= STAGES_PER_HASH) {
          const rest = chunk.subarray(at);
          return this.hashing[0]!.then(() => this.update(rest));
        }
        this.stage = stages.take();
        this.filled = 0;
      }
      const n = chunk.copy(this.stage, this.filled, at);
      this.filled += n;
      at += n;
      if (this.filled === this.stage.length) this.dispatch();
    }
    return undefined;
  }

  async *through(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    if (this.stage) this.dispatch();
    let stage: Buffer | undefined;
    let filled = 0;
    try {
      for await (const chunk of body) {
        if (this.failure) throw this.failure;
        let at = 0;
        if (this.inlineLeft > 0 && !stage && this.hashing.length === 0) {
          at = Math.min(chunk.length, this.inlineLeft);
          this.sha.update(this.state, chunk.subarray(0, at));
          this.inlineLeft -= at;
          yield at === chunk.length ? chunk : chunk.subarray(0, at);
        }
        while (at < chunk.length) {
          if (!stage) {
            while (this.hashing.length >= STAGES_PER_HASH) await this.hashing[0];
            stage = stages.take();
            filled = 0;
          }
          const n = chunk.copy(stage, filled, at);
          filled += n;
          at += n;
          if (filled === stage.length) {
            const full = stage;
            stage = undefined;
            yield* this.lend(full, filled);
          }
        }
      }
      if (stage && filled > 0) {
        const part = stage;
        stage = undefined;
        yield* this.lend(part, filled);
      }
    } finally {
      if (stage) stages.give(stage);
    }
    await this.settle();
  }

  /** Yields a stage's first `length` bytes while a libuv thread hashes them; the stage is reused once both are done. */
  private *lend(stage: Buffer, length: number): Generator<Buffer> {
    let holders = 2;
    const release = () => {
      if (--holders === 0) stages.give(stage);
    };
    this.hashInBackground(stage.subarray(0, length), release);
    try {
      yield stage.subarray(0, length);
    } finally {
      release();
    }
  }

  private dispatch(): void {
    const stage = this.stage!;
    const data = stage.subarray(0, this.filled);
    this.stage = undefined;
    this.filled = 0;
    this.hashInBackground(data, () => stages.give(stage));
  }

  /** Hashes `data` on a libuv thread after what was handed over before; `hashed` runs once it is done with it. */
  private hashInBackground(data: Buffer, hashed: () => void): void {
    const done = this.last.then(() => this.sha.updateInBackground(this.state, data));
    this.last = done.then(
      () => undefined,
      (e: unknown) => {
        this.failure ??= e;
      },
    );
    const settled = this.last.then(() => {
      hashed();
      this.hashing.shift();
    });
    this.hashing.push(settled);
  }

  async settle(): Promise<void> {
    await this.last;
    if (this.failure) throw this.failure;
    if (this.stage) {
      const stage = this.stage;
      this.stage = undefined;
      this.sha.update(this.state, stage.subarray(0, this.filled));
      this.filled = 0;
      stages.give(stage);
    }
  }

  private assertSettled(): void {
    if (this.failure) throw this.failure;
    if (this.stage || this.hashing.length > 0) throw new Error('the running hash has input it has not settled');
  }

  hex(): string {
    this.assertSettled();
    return this.sha.digest(this.state).toString('hex');
  }

  save(): Buffer {
    this.assertSettled();
    return Buffer.concat([SYSTEM_STATE_TAG, this.state]);
  }
}

// ---------------------------------------------------------------- fallbacks without the system library

/** node:crypto's SHA-256, for where the system library is missing: its state cannot leave the process. */
export function nodeSha256(): RunningHash {
  const hash: Hash = createHash('sha256');
  return {
    update: (chunk) => {
      hash.update(chunk);
      return undefined;
    },
    through: (body) => hashedAsItPasses(body, (chunk) => hash.update(chunk)),
    settle: () => Promise.resolve(),
    hex: () => hash.copy().digest('hex'),
    save: () => undefined,
  };
}

/** hash-wasm's SHA-256, whose state can be saved, for where the system library is missing. */
export async function wasmSha256(state?: Buffer): Promise<RunningHash> {
  const hasher: IHasher = await createSHA256();
  if (state) hasher.load(state);
  else hasher.init();
  return {
    update: (chunk) => {
      hasher.update(chunk);
      return undefined;
    },
    through: (body) => hashedAsItPasses(body, (chunk) => hasher.update(chunk)),
    settle: () => Promise.resolve(),
    hex: () => {
      const saved = hasher.save();
      const hex = hasher.digest('hex');
      hasher.load(saved);
      return hex;
    },
    save: () => Buffer.from(hasher.save()),
  };
}

async function* hashedAsItPasses(body: AsyncIterable<Buffer>, update: (chunk: Buffer) => void): AsyncIterable<Buffer> {
  for await (const chunk of body) {
    update(chunk);
    yield chunk;
  }
}

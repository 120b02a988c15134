import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * SHA-256 from the system's OpenSSL library (through the koffi FFI), whose state is plain bytes: it
 * can be saved and resumed by another process, and large inputs can be hashed on a libuv thread while
 * the calling thread goes on with other work. Undefined where the library cannot be loaded or does
 * not pass the self-test; callers then use node:crypto.
 */
export interface SystemSha256 {
  /** Bytes of a SHA256_CTX: h[8], Nl, Nh, data[16], num, md_len, all 32-bit (OpenSSL's public struct). */
  readonly stateBytes: number;
  init(state: Buffer): void;
  update(state: Buffer, data: Buffer): void;
  /** `update` on a libuv thread; neither buffer may be touched until it settles. */
  updateInBackground(state: Buffer, data: Buffer): Promise<void>;
  /** The digest of a state (which is left as it was). */
  digest(state: Buffer): Buffer;
}

const STATE_BYTES = 112;

function load(): SystemSha256 | undefined {
  let lib;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    lib = koffi.load('libcrypto.so.3');
  } catch {
    return undefined;
  }
  const init = lib.func('int SHA256_Init(uint8_t*)');
  const update = lib.func('int SHA256_Update(uint8_t*, const uint8_t*, size_t)');
  const final = lib.func('int SHA256_Final(uint8_t*, uint8_t*)');
  const check = (ok: unknown, what: string) => {
    if (ok !== 1) throw new Error(`OpenSSL ${what} failed`);
  };
  const sized = (state: Buffer) => {
    if (state.length !== STATE_BYTES) throw new Error(`a SHA-256 state is ${STATE_BYTES} bytes`);
  };
  const sha: SystemSha256 = {
    stateBytes: STATE_BYTES,
    init(state) {
      sized(state);
      check(init(state), 'SHA256_Init');
    },
    update(state, data) {
      sized(state);
      if (data.length > 0) check(update(state, data, data.length), 'SHA256_Update');
    },
    updateInBackground(state, data) {
      sized(state);
      if (data.length === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        update.async(state, data, data.length, (err: unknown, ok: unknown) => {
          if (err) reject(err);
          else if (ok !== 1) reject(new Error('OpenSSL SHA256_Update failed'));
          else resolve();
        });
      });
    },
    digest(state) {
      sized(state);
      const copy = Buffer.from(state);
      const out = Buffer.alloc(32);
      check(final(out, copy), 'SHA256_Final');
      return out;
    },
  };
  return selfTest(sha) ? sha : undefined;
}

/** The library must agree with node:crypto, also across a saved and copied state, before berth relies on it. */
function selfTest(sha: SystemSha256): boolean {
  try {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
    const state = Buffer.alloc(STATE_BYTES);
    sha.init(state);
    sha.update(state, data.subarray(0, 333));
    const resumed = Buffer.from(state);
    sha.update(resumed, data.subarray(333));
    const expected = createHash('sha256').update(data).digest();
    const empty = Buffer.alloc(STATE_BYTES);
    sha.init(empty);
    return sha.digest(resumed).equals(expected) && sha.digest(empty).equals(createHash('sha256').digest());
  } catch {
    return false;
  }
}

export const systemSha256: SystemSha256 | undefined = load();

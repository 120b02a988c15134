import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * AES-256-GCM over whole messages, writing into buffers the caller owns. Where the system's
 * OpenSSL library can be loaded it is called directly (through the koffi FFI): node:crypto
 * allocates every call's output and a new cipher object per message, and measured 1.5-3x slower
 * than the library writing into the caller's buffer for the same 64 KiB segments. Elsewhere
 * node:crypto does it.
 */
export interface AesGcm {
  readonly engine: 'system-openssl' | 'node';
  /** Encrypts `plain` into `into` (at least as long); returns the 16-byte tag. */
  seal(key: Buffer, nonce: Buffer, aad: Buffer, plain: Buffer, into: Buffer): Buffer;
  /** Decrypts `sealed` into `into` (at least as long); false when the tag does not authenticate it. */
  open(key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer, tag: Buffer, into: Buffer): boolean;
}

const TAG_BYTES = 16;

export const nodeAesGcm: AesGcm = {
  engine: 'node',
  seal(key, nonce, aad, plain, into) {
    if (into.length < plain.length) throw new RangeError('output buffer too small');
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    cipher.update(plain).copy(into);
    cipher.final();
    return cipher.getAuthTag();
  },
  open(key, nonce, aad, sealed, tag, into) {
    if (into.length < sealed.length) throw new RangeError('output buffer too small');
    if (tag.length !== TAG_BYTES) return false;
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    decipher.update(sealed).copy(into);
    try {
      decipher.final();
      return true;
    } catch {
      return false;
    }
  },
};

// OpenSSL's EVP_CTRL_GCM_GET_TAG / EVP_CTRL_GCM_SET_TAG.
const GCM_GET_TAG = 0x10;
const GCM_SET_TAG = 0x11;

function systemAesGcm(): AesGcm | undefined {
  let lib;
  let koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    lib = koffi.load('libcrypto.so.3');
  } catch {
    return undefined;
  }
  const newContext = lib.func('void* EVP_CIPHER_CTX_new()');
  const aes256gcm = lib.func('const void* EVP_aes_256_gcm()');
  const encryptInit = lib.func('int EVP_EncryptInit_ex(void*, const void*, void*, const uint8_t*, const uint8_t*)');
  const encryptUpdate = lib.func('int EVP_EncryptUpdate(void*, uint8_t*, _Out_ int*, const uint8_t*, int)');
  const encryptFinal = lib.func('int EVP_EncryptFinal_ex(void*, uint8_t*, _Out_ int*)');
  const decryptInit = lib.func('int EVP_DecryptInit_ex(void*, const void*, void*, const uint8_t*, const uint8_t*)');
  const decryptUpdate = lib.func('int EVP_DecryptUpdate(void*, uint8_t*, _Out_ int*, const uint8_t*, int)');
  const decryptFinal = lib.func('int EVP_DecryptFinal_ex(void*, uint8_t*, _Out_ int*)');
  const control = lib.func('int EVP_CIPHER_CTX_ctrl(void*, int, int, uint8_t*)');
  // One context for the process: every call runs to its end on this thread before the next begins.
  const context = newContext();
  const cipher = aes256gcm();
  if (!context || !cipher) return undefined;
  const written = [0];
  const noOutput = Buffer.alloc(TAG_BYTES);
  const check = (ok: number, what: string) => {
    if (ok !== 1) throw new Error(`OpenSSL ${what} failed`);
  };
  const valid = (key: Buffer, nonce: Buffer) => {
    if (key.length !== 32 || nonce.length !== 12) throw new Error('AES-256-GCM needs a 32-byte key and a 12-byte nonce');
  };
  const engine: AesGcm = {
    engine: 'system-openssl',
    seal(key, nonce, aad, plain, into) {
      valid(key, nonce);
      if (into.length < plain.length) throw new RangeError('output buffer too small');
      check(encryptInit(context, cipher, null, key, nonce), 'encrypt init');
      if (aad.length > 0) check(encryptUpdate(context, null, written, aad, aad.length), 'encrypt aad');
      if (plain.length > 0) check(encryptUpdate(context, into, written, plain, plain.length), 'encrypt');
      check(encryptFinal(context, noOutput, written), 'encrypt final');
      const tag = Buffer.allocUnsafe(TAG_BYTES);
      check(control(context, GCM_GET_TAG, TAG_BYTES, tag), 'get tag');
      return tag;
    },
    open(key, nonce, aad, sealed, tag, into) {
      valid(key, nonce);
      if (into.length < sealed.length) throw new RangeError('output buffer too small');
      if (tag.length !== TAG_BYTES) return false;
      check(decryptInit(context, cipher, null, key, nonce), 'decrypt init');
      if (aad.length > 0) check(decryptUpdate(context, null, written, aad, aad.length), 'decrypt aad');
      if (sealed.length > 0) check(decryptUpdate(context, into, written, sealed, sealed.length), 'decrypt');
      check(control(context, GCM_SET_TAG, TAG_BYTES, tag), 'set tag');
      return decryptFinal(context, noOutput, written) === 1;
    },
  };
  return selfTest(engine) ? engine : undefined;
}

/** The system library must agree with node:crypto on a known message before berth relies on it. */
function selfTest(engine: AesGcm): boolean {
  try {
    const key = Buffer.alloc(32, 7);
    const nonce = Buffer.alloc(12, 9);
    const aad = Buffer.from('berth');
    const plain = Buffer.from('segment of a blob, sealed at rest');
    const ours = Buffer.alloc(plain.length);
    const tag = engine.seal(key, nonce, aad, plain, ours);
    const theirs = Buffer.alloc(plain.length);
    const theirTag = nodeAesGcm.seal(key, nonce, aad, plain, theirs);
    const back = Buffer.alloc(plain.length);
    return ours.equals(theirs) && tag.equals(theirTag) && engine.open(key, nonce, aad, theirs, theirTag, back) && back.equals(plain) && !engine.open(key, nonce, Buffer.from('other'), theirs, theirTag, back);
  } catch {
    return false;
  }
}

/** The fastest AES-256-GCM available here. */
export const aesGcm: AesGcm = systemAesGcm() ?? nodeAesGcm;

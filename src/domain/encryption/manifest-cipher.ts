import type { MasterKey } from '../kms/master-key.js';
import type { BodyCipher } from '../../store/meta/metadata-store.js';
import { openWith, sealWith } from './segments.js';

/** Marks a sealed manifest body; a manifest (JSON) never starts with a NUL byte. */
const MAGIC = Buffer.from([0x00, 0x62, 0x65, 0x01]);

/**
 * Manifest bodies at rest: sealed (AES-256-GCM, bound to the manifest's digest) with a key derived
 * from the master key. Bodies written before encryption are read as they are.
 */
export function manifestCipher(master: MasterKey): BodyCipher {
  const key = master.derive('manifest', 'bodies');
  return {
    seal: (body, digest) => Buffer.concat([MAGIC, sealWith(key, body, Buffer.from(digest))]),
    open(stored, digest) {
      if (stored.length < MAGIC.length || !stored.subarray(0, MAGIC.length).equals(MAGIC)) return stored;
      return openWith(key, stored.subarray(MAGIC.length), Buffer.from(digest));
    },
  };
}

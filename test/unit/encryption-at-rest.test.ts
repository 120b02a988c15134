// Encryption at rest through the registry domain over the embedded stores: uploads in odd chunks,
// ranged reads, no plaintext on disk, one stored copy for repositories with different keys,
// cross-repository mounts, KMS key state, and blobs written before encryption.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobEncryption } from '../../src/domain/encryption/blob-encryption.js';
import { encryptPlaintextBlobs } from '../../src/domain/encryption/plaintext-migration.js';
import { SEALED_SEGMENT_BYTES, SEGMENT_BYTES } from '../../src/domain/encryption/segments.js';
import { Kms } from '../../src/domain/kms/kms.js';
import { MasterKey } from '../../src/domain/kms/master-key.js';
import { manifestCipher } from '../../src/domain/encryption/manifest-cipher.js';
import type { Repository } from '../../src/domain/registry/model.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { RegistryError } from '../../src/domain/registry/errors.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const MARKER = 'BERTH-SECRET-MARKER-7f3a';
const dg = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function* chunks(data: Buffer, sizes: number[]): AsyncIterable<Buffer> {
  let at = 0;
  for (const size of sizes) {
    yield data.subarray(at, at + size);
    at += size;
  }
  if (at < data.length) yield data.subarray(at);
}

async function* broken(data: Buffer): AsyncIterable<Buffer> {
  yield data;
  throw new Error('connection reset');
}

/** Every file under `dir` whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

/** A layer-like blob: random bytes with the marker inside, more than a few segments long. */
function layer(bytes = 3 * SEGMENT_BYTES + 12345): Buffer {
  const data = randomBytes(bytes);
  data.write(MARKER, SEGMENT_BYTES - 10); // straddles a segment boundary
  data.write(MARKER, bytes - 100);
  return data;
}

async function readRange(registry: Registry, repo: Repository, digest: string, range?: { start: number; end: number }, bufferBytes = 50_000): Promise<Buffer> {
  const { body } = await registry.blobs.open(repo, digest, range);
  if (Buffer.isBuffer(body)) return body;
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(bufferBytes);
  try {
    for (;;) {
      const n = await body.read(buf);
      if (n === 0) break;
      parts.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    await body.close();
  }
  return Buffer.concat(parts);
}

describe('encryption at rest', () => {
  let dir: string;
  let db: SqliteDb;
  let meta: MetadataStore;
  let blobs: FsBlobStore;
  let kms: Kms;
  let registry: Registry;
  let encryption: BlobEncryption;
  let aes: Repository;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-encryption-'));
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    const master = await MasterKey.load(join(dir, 'master.key'));
    meta = new MetadataStore(db, manifestCipher(master));
    blobs = new FsBlobStore(dir);
    await blobs.init();
    kms = new Kms(() => meta.kms, master);
    encryption = new BlobEncryption(meta, blobs, master, kms, REGION);
    registry = new Registry(meta, blobs, { encryption, region: REGION });
    aes = await registry.repositories.create({ registryId: ACCOUNT, name: 'aes' }, {});
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an upload in chunks that end mid-segment, with a failed chunk retried, reads back whole and in ranges; no plaintext on disk', async () => {
    const data = layer();
    const u = await registry.uploads.start(aes);
    let at = 0;
    for (const size of [1000, SEGMENT_BYTES, 7, SEGMENT_BYTES * 2 - 1007]) {
      const part = data.subarray(at, at + size);
      if (size === 7) {
        // a chunk that breaks midway is not part of the upload; its retry is
        await assert.rejects(registry.uploads.append(aes, u.id, broken(Buffer.from('GARBAGE-GARBAGE'))));
      }
      await registry.uploads.append(aes, u.id, chunks(part, [3, 500]));
      at += size;
      assert.deepEqual(await filesContaining(dir, MARKER), [], 'nothing in plaintext while the upload is in progress');
    }
    const digest = dg(data);
    await registry.uploads.complete(aes, u.id, digest, chunks(data.subarray(at), [10]));
    assert.equal(await registry.blobs.stat(aes, digest), data.length);
    assert.ok(await readRange(registry, aes, digest).then((b) => b.equals(data)), 'whole blob byte for byte');
    for (const [start, end] of [
      [0, 0],
      [SEGMENT_BYTES - 10, SEGMENT_BYTES + 30],
      [2 * SEGMENT_BYTES, 3 * SEGMENT_BYTES - 1],
      [data.length - 5, data.length - 1],
    ] as const) {
      assert.ok((await readRange(registry, aes, digest, { start, end })).equals(data.subarray(start, end + 1)), `range ${start}-${end}`);
    }
    assert.deepEqual(await filesContaining(dir, MARKER), []);
    assert.deepEqual(await readdir(join(dir, 'uploads')), [], 'upload files and tails are gone');
  });

  it('reads of whole batches of segments (as a pull sends them) and of other sizes return the same bytes', async () => {
    const data = layer(20 * SEGMENT_BYTES + 777);
    const digest = (await registry.uploads.whole(aes, dg(data), chunks(data, [SEGMENT_BYTES * 3 + 5]))).digest;
    const batch = 8 * SEGMENT_BYTES;
    for (const [range, bufferBytes] of [
      [undefined, batch],
      [undefined, batch + 1],
      [undefined, 2 * batch],
      [{ start: 100, end: 19 * SEGMENT_BYTES + 5 }, batch],
      [{ start: batch, end: 2 * batch - 1 }, batch],
      [{ start: batch, end: data.length - 1 }, batch],
      [{ start: 0, end: 2 * batch - 2 }, batch],
    ] as const) {
      const start = range?.start ?? 0;
      const end = range?.end ?? data.length - 1;
      const got = await readRange(registry, aes, digest, range, bufferBytes);
      assert.ok(got.equals(data.subarray(start, end + 1)), `range ${start}-${end} read ${bufferBytes} bytes at a time`);
    }
  });

  it('the digest of an upload resumed elsewhere is computed from the decrypted bytes', async () => {
    const data = layer(SEGMENT_BYTES + 77);
    const u = await registry.uploads.start(aes);
    await registry.uploads.append(aes, u.id, chunks(data.subarray(0, 100), []));
    // another registry over the same stores (another node) has no running hash for this upload
    const other = new Registry(meta, blobs, { encryption: new BlobEncryption(meta, blobs, await MasterKey.load(join(dir, 'master.key')), kms, REGION), region: REGION });
    await other.uploads.append(aes, u.id, chunks(data.subarray(100), [SEGMENT_BYTES]));
    await other.uploads.complete(aes, u.id, dg(data));
    assert.ok((await readRange(registry, aes, dg(data))).equals(data));
  });

  it('stored bytes that were changed fail authentication instead of being served', async () => {
    const data = layer();
    const digest = (await registry.uploads.whole(aes, dg(data), chunks(data, []))).digest;
    const hex = digest.slice(7);
    const path = join(dir, 'blobs', 'sha256', hex.slice(0, 2), hex);
    assert.equal((await stat(path)).size, 3 * SEALED_SEGMENT_BYTES + 12345 + 28);
    const stored = await readFile(path);
    stored[SEALED_SEGMENT_BYTES + 40] ^= 1;
    await writeFile(path, stored);
    await assert.rejects(readRange(registry, aes, digest, { start: SEGMENT_BYTES, end: SEGMENT_BYTES + 10 }));
    assert.ok((await readRange(registry, aes, digest, { start: 0, end: 100 })).equals(data.subarray(0, 101)), 'other segments still read');
  });

  it('KMS repositories: the named key or alias/aws/ecr; one stored copy shared with an AES256 repository; mounts re-wrap; a disabled key makes the repository unreadable until re-enabled', async () => {
    const scope = { accountId: ACCOUNT, region: REGION };
    const key = await kms.createKey(scope, {});
    await kms.createAlias(scope, 'alias/app', key);
    const named = await registry.repositories.create({ registryId: ACCOUNT, name: 'kms-named' }, { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/app' } });
    assert.deepEqual(named.settings.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${key.id}` });
    const managed = await registry.repositories.create({ registryId: ACCOUNT, name: 'kms-managed' }, { encryptionConfiguration: { encryptionType: 'KMS' } });
    const ecrKey = (await kms.resolve(scope, 'alias/aws/ecr'));
    assert.equal(ecrKey.keyManager, 'AWS');
    assert.equal(managed.settings.encryptionConfiguration.kmsKey, `arn:aws:kms:${REGION}:${ACCOUNT}:key/${ecrKey.id}`);
    await assert.rejects(
      registry.repositories.create({ registryId: ACCOUNT, name: 'kms-missing' }, { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/nope' } }),
      (e: unknown) => e instanceof RegistryError && e.kind === 'Kms' && e.detail.kmsError === 'NotFoundException',
    );

    const data = layer();
    const digest = dg(data);
    await registry.uploads.whole(named, digest, chunks(data, []));
    await registry.uploads.whole(aes, digest, chunks(data, [SEGMENT_BYTES / 2]));
    assert.equal(await registry.blobs.mount(managed, digest, aes), data.length);
    assert.deepEqual([...(await meta.kms.blobDataKeys(digest)).keys()].sort(), ['berth', ecrKey.id, key.id].sort());
    assert.equal((await readdir(join(dir, 'blobs', 'sha256', digest.slice(7, 9)))).length, 1, 'stored once');
    for (const repo of [named, aes, managed]) assert.ok((await readRange(registry, repo, digest)).equals(data), repo.name);

    await kms.disable(key);
    await assert.rejects(registry.blobs.open(named, digest), (e: unknown) => e instanceof RegistryError && e.kind === 'Kms' && e.detail.kmsError === 'DisabledException');
    assert.ok((await readRange(registry, aes, digest)).equals(data), 'other repositories still read the shared layer');
    await kms.enable(await kms.resolve(scope, key.id));
    assert.ok((await readRange(registry, named, digest)).equals(data), 'readable again once re-enabled');
    await kms.scheduleDeletion(await kms.resolve(scope, key.id), 7);
    await assert.rejects(registry.blobs.open(named, digest), (e: unknown) => e instanceof RegistryError && e.kind === 'Kms' && e.detail.kmsError === 'KMSInvalidStateException');
    assert.deepEqual(await filesContaining(dir, MARKER), []);
  });

  it('a final chunk whose commit failed (key disabled) completes later on another node', async () => {
    const scope = { accountId: ACCOUNT, region: REGION };
    const key = await kms.createKey(scope, {});
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'kms-later' }, { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.id } });
    const data = layer(2 * SEGMENT_BYTES + 500);
    const u = await registry.uploads.start(repo);
    await registry.uploads.append(repo, u.id, chunks(data.subarray(0, 1000), []));
    await kms.disable(key);
    await assert.rejects(registry.uploads.complete(repo, u.id, dg(data), chunks(data.subarray(1000), [70_000])), (e: unknown) => e instanceof RegistryError && e.kind === 'Kms');
    assert.equal((await registry.uploads.get(repo, u.id)).size, data.length, 'the final chunk was counted');
    await kms.enable(await kms.resolve(scope, key.id));
    const other = new Registry(meta, blobs, { encryption: new BlobEncryption(meta, blobs, await MasterKey.load(join(dir, 'master.key')), kms, REGION), region: REGION });
    await other.uploads.complete(repo, u.id, dg(data));
    assert.ok((await readRange(other, repo, dg(data))).equals(data));
  });

  it('when the object store encrypts (redirected downloads), new blobs are stored as plaintext without data keys, an encrypted one stays encrypted, and the plaintext job leaves them', async () => {
    const data = layer();
    const digest = dg(data);
    // A blob berth encrypted before the store took over encryption.
    await registry.uploads.whole(aes, digest, chunks(data, []));
    const master = await MasterKey.load(join(dir, 'master.key'));
    const storeEncrypted = new BlobEncryption(meta, blobs, master, kms, REGION, true);
    const viaStore = new Registry(meta, blobs, { encryption: storeEncrypted, region: REGION });
    const other = await viaStore.repositories.create({ registryId: ACCOUNT, name: 'other' }, {});
    await viaStore.uploads.whole(other, digest, chunks(data, [SEGMENT_BYTES / 3]));
    assert.ok(await storeEncrypted.isEncrypted(digest), 'the stored ciphertext and its data keys are kept');
    assert.ok((await readRange(viaStore, other, digest)).equals(data));

    const fresh = Buffer.concat([data, Buffer.from('another blob')]);
    const freshDigest = dg(fresh);
    const u = await viaStore.uploads.start(other);
    await viaStore.uploads.append(other, u.id, chunks(fresh.subarray(0, 1000), []));
    await viaStore.uploads.complete(other, u.id, freshDigest, chunks(fresh.subarray(1000), [SEGMENT_BYTES]));
    assert.equal(await storeEncrypted.isEncrypted(freshDigest), false, 'no data key: the store encrypts it');
    assert.equal(await blobs.stat(freshDigest), fresh.length, 'stored as the blob itself, for a pre-signed URL to serve');
    assert.ok((await readRange(viaStore, other, freshDigest)).equals(fresh));
    assert.deepEqual(await encryptPlaintextBlobs(meta, storeEncrypted), { encrypted: 0, left: 0 }, 'plaintext is what the store is meant to hold');
    assert.equal(await storeEncrypted.isEncrypted(freshDigest), false);
  });

  it('blobs and manifests written before encryption are served as they were; pushing them again keeps them', async () => {
    const old = Buffer.from(`an old layer with ${MARKER}`);
    const digest = dg(old);
    // what an earlier version left: a plaintext file and its rows
    const path = join(dir, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, old);
    await meta.commitBlob(aes.id, digest, old.length);
    assert.ok((await readRange(registry, aes, digest)).equals(old));
    assert.ok((await readRange(registry, aes, digest, { start: 3, end: 5 })).equals(old.subarray(3, 6)));
    await registry.uploads.whole(aes, digest, chunks(old, []));
    assert.ok((await readRange(registry, aes, digest)).equals(old));

    const plainMeta = new MetadataStore(db); // an earlier version wrote manifest bodies as they came
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: old.length }, layers: [] }));
    await plainMeta.insertManifest(
      { repoId: aes.id, digest: dg(manifest), mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null, configMediaType: null, subject: null, annotations: null, size: manifest.length, layersSize: 0, body: manifest, pushedAt: 1, lastPulledAt: null },
      [],
    );
    assert.ok((await registry.images.get(aes, dg(manifest))).body.equals(manifest));
  });

  it('manifest bodies are sealed in the database and served byte for byte', async () => {
    const config = Buffer.from(`{"marker":"${MARKER}"}`);
    await registry.uploads.whole(aes, dg(config), chunks(config, []));
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg(config), size: config.length }, layers: [], annotations: { note: 'x' } }),
    );
    await registry.images.put(aes, 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json');
    assert.ok((await registry.images.get(aes, 'v1')).body.equals(manifest));
    const raw = await db.get<{ body: Buffer }>('SELECT body FROM manifests');
    assert.ok(!Buffer.from(raw!.body).includes('schemaVersion'), 'no manifest JSON in the database');
    assert.deepEqual(await filesContaining(dir, MARKER), []);
  });

  it('blobs an earlier version stored in plaintext are encrypted in place; readers before, during and after get the plaintext', async () => {
    const scope = { accountId: ACCOUNT, region: REGION };
    const key = await kms.createKey(scope, {});
    const kmsRepo = await registry.repositories.create({ registryId: ACCOUNT, name: 'kms-old' }, { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.id } });
    // What an earlier version left: plaintext files and their rows; the first blob in two repositories.
    const olds = [layer(), layer(SEGMENT_BYTES + 7)];
    for (const old of olds) {
      const path = join(dir, 'blobs', 'sha256', dg(old).slice(7, 9), dg(old).slice(7));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, old);
      await meta.commitBlob(aes.id, dg(old), old.length);
    }
    await meta.commitBlob(kmsRepo.id, dg(olds[0]!), olds[0]!.length);
    assert.equal((await filesContaining(dir, MARKER)).length, 2);

    // A pull that opened the plaintext before the swap goes on reading it.
    const early = await registry.blobs.open(aes, dg(olds[0]!));
    assert.ok(!Buffer.isBuffer(early.body));
    const firstBytes = Buffer.alloc(1000);
    assert.equal(await early.body.read(firstBytes), 1000);

    // The second blob's repository key is disabled: it is left for a later run.
    await meta.commitBlob(kmsRepo.id, dg(olds[1]!), olds[1]!.length);
    await kms.disable(key);
    assert.deepEqual(await encryptPlaintextBlobs(meta, encryption), { encrypted: 0, left: 2 });
    await kms.enable(await kms.resolve(scope, key.id));
    assert.deepEqual(await encryptPlaintextBlobs(meta, encryption), { encrypted: 2, left: 0 });
    assert.deepEqual(await filesContaining(dir, MARKER), [], 'no plaintext left on disk');
    assert.deepEqual(await encryptPlaintextBlobs(meta, encryption), { encrypted: 0, left: 0 }, 'nothing to do twice');

    const rest = Buffer.alloc(olds[0]!.length);
    let got = 0;
    for (let n; (n = await early.body.read(rest.subarray(got))) > 0; ) got += n;
    await early.body.close();
    assert.ok(Buffer.concat([firstBytes, rest.subarray(0, got)]).equals(olds[0]!), 'the early reader read the plaintext it opened');
    for (const repo of [aes, kmsRepo]) {
      for (const old of olds) {
        assert.ok((await readRange(registry, repo, dg(old))).equals(old), `${repo.name} reads ${dg(old)} whole`);
        assert.ok((await readRange(registry, repo, dg(old), { start: SEGMENT_BYTES - 3, end: SEGMENT_BYTES + 3 })).equals(old.subarray(SEGMENT_BYTES - 3, SEGMENT_BYTES + 4)));
      }
    }
    // Disabling the key of the KMS repository now refuses its reads, as for any encrypted blob.
    await kms.disable(await kms.resolve(scope, key.id));
    await assert.rejects(readRange(registry, kmsRepo, dg(olds[0]!)), (e: unknown) => e instanceof RegistryError && e.kind === 'Kms');
    assert.ok((await readRange(registry, aes, dg(olds[0]!))).equals(olds[0]!));
  });

  it('a blob whose data key is recorded but whose plaintext was not replaced yet is read as plaintext', async () => {
    const old = layer();
    const path = join(dir, 'blobs', 'sha256', dg(old).slice(7, 9), dg(old).slice(7));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, old);
    await meta.commitBlob(aes.id, dg(old), old.length);
    await encryptPlaintextBlobs(meta, encryption);
    // As if the process stopped between recording the key and replacing the bytes.
    await writeFile(path, old);
    assert.ok((await readRange(registry, aes, dg(old))).equals(old));
    assert.ok((await readRange(registry, aes, dg(old), { start: 5, end: SEGMENT_BYTES + 5 })).equals(old.subarray(5, SEGMENT_BYTES + 6)));
    // A damaged stored blob is still an error, not served.
    const damaged = Buffer.from(old);
    damaged[10]! ^= 1;
    await writeFile(path, Buffer.concat([damaged, Buffer.alloc(100)]));
    await assert.rejects(readRange(registry, aes, dg(old)));
  });
});

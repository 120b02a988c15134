import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MAX_MANIFEST_BYTES, imageSize, parseManifest, putImageMediaType } from '../../src/domain/registry/manifest.js';
import { MediaType } from '../../src/domain/registry/media-types.js';
import { RegistryError } from '../../src/domain/registry/errors.js';
import { toOciError } from '../../src/doors/oci/errors.js';

const d = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('config'), size: 6 };
const LAYER = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('layer'), size: 100 };
const LAYER2 = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('layer2'), size: 23 };

function buf(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

function expectInvalid(doc: unknown, contentType?: string, status = 400): void {
  const bytes = Buffer.isBuffer(doc) ? doc : buf(doc);
  assert.throws(
    () => parseManifest(bytes, contentType),
    (e: unknown) => e instanceof RegistryError && toOciError(e).code === 'MANIFEST_INVALID' && toOciError(e).status === status,
  );
}

describe('parseManifest: image manifests', () => {
  it('OCI image manifest: blobs, sizes, artifactType falls back to the config media type', () => {
    const m = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: CONFIG, layers: [LAYER, LAYER2] }), MediaType.ociManifest);
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.deepEqual(m.blobs, [CONFIG.digest, LAYER.digest, LAYER2.digest]);
    assert.deepEqual(m.manifests, []);
    assert.equal(m.layersSize, 123);
    assert.equal(m.configMediaType, CONFIG.mediaType);
    assert.equal(m.artifactType, CONFIG.mediaType);
    assert.equal(m.subject, undefined);
  });

  it('mediaType may be absent: taken from Content-Type, else guessed from the shape', () => {
    const doc = { schemaVersion: 2, config: CONFIG, layers: [] };
    assert.equal(parseManifest(buf(doc), MediaType.ociManifest).mediaType, MediaType.ociManifest);
    assert.equal(parseManifest(buf(doc), MediaType.dockerManifest).mediaType, MediaType.dockerManifest);
    assert.equal(parseManifest(buf(doc), undefined).mediaType, MediaType.ociManifest);
    assert.equal(parseManifest(buf(doc), 'application/json').mediaType, MediaType.ociManifest);
  });

  it('empty layers list is fine; duplicate blobs are listed once', () => {
    const m = parseManifest(buf({ schemaVersion: 2, config: CONFIG, layers: [] }), MediaType.ociManifest);
    assert.deepEqual(m.blobs, [CONFIG.digest]);
    assert.equal(m.layersSize, 0);
    const dup = parseManifest(buf({ schemaVersion: 2, config: CONFIG, layers: [LAYER, LAYER] }), MediaType.ociManifest);
    assert.deepEqual(dup.blobs, [CONFIG.digest, LAYER.digest]);
  });

  it('Docker v2 manifest: no artifactType fallback, foreign layers are not required blobs', () => {
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d('win'), size: 5, urls: ['https://example.invalid/x'] };
    const m = parseManifest(
      buf({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: { ...CONFIG, mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [foreign, LAYER] }),
      MediaType.dockerManifest,
    );
    assert.equal(m.mediaType, MediaType.dockerManifest);
    assert.equal(m.artifactType, undefined);
    assert.deepEqual(m.blobs, [CONFIG.digest, LAYER.digest]);
    assert.equal(m.layersSize, 105);
  });

  it('OCI nondistributable layers are not required blobs', () => {
    const nd = { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: d('nd'), size: 1 };
    const m = parseManifest(buf({ schemaVersion: 2, config: CONFIG, layers: [nd] }), MediaType.ociManifest);
    assert.deepEqual(m.blobs, [CONFIG.digest]);
  });

  it('artifacts: explicit artifactType wins; custom config types are kept; subject and annotations parsed', () => {
    const subject = { mediaType: MediaType.ociManifest, digest: d('subject'), size: 500 };
    const m = parseManifest(
      buf({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: 'application/vnd.example.sbom',
        config: { mediaType: MediaType.ociEmpty, digest: d('{}'), size: 2 },
        layers: [LAYER],
        subject,
        annotations: { 'org.example.a': 'b' },
      }),
      MediaType.ociManifest,
    );
    assert.equal(m.artifactType, 'application/vnd.example.sbom');
    assert.equal(m.configMediaType, MediaType.ociEmpty);
    assert.equal(m.subject?.digest, subject.digest);
    assert.deepEqual(m.annotations, { 'org.example.a': 'b' });

    const custom = parseManifest(buf({ schemaVersion: 2, config: { ...CONFIG, mediaType: 'application/vnd.food.config+json' }, layers: [] }), MediaType.ociManifest);
    assert.equal(custom.artifactType, 'application/vnd.food.config+json');
  });
});

describe('parseManifest: indexes', () => {
  const child = { mediaType: MediaType.ociManifest, digest: d('child'), size: 10, platform: { os: 'linux', architecture: 'amd64' } };
  it('OCI index lists child manifests, no blobs', () => {
    const m = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child, child] }), MediaType.ociIndex);
    assert.equal(m.mediaType, MediaType.ociIndex);
    assert.deepEqual(m.manifests, [child.digest]);
    assert.deepEqual(m.blobs, []);
    assert.equal(m.layersSize, 0);
  });
  it('Docker manifest list', () => {
    const m = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [{ ...child, mediaType: MediaType.dockerManifest }] }), MediaType.dockerManifestList);
    assert.equal(m.mediaType, MediaType.dockerManifestList);
    assert.deepEqual(m.manifests, [child.digest]);
  });
  it('index without mediaType is recognised by its manifests list; artifactType and subject kept', () => {
    const m = parseManifest(buf({ schemaVersion: 2, artifactType: 'application/vnd.food.stand', manifests: [], subject: { mediaType: MediaType.ociManifest, digest: d('s'), size: 1 } }), undefined);
    assert.equal(m.mediaType, MediaType.ociIndex);
    assert.equal(m.artifactType, 'application/vnd.food.stand');
    assert.equal(m.subject?.digest, d('s'));
  });
  it('an index needs a manifests list', () => {
    expectInvalid({ schemaVersion: 2, mediaType: MediaType.ociIndex }, MediaType.ociIndex);
    expectInvalid({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: {} }, MediaType.ociIndex);
    expectInvalid({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: 'sha256:nope', size: 1 }] }, MediaType.ociIndex);
  });
});

describe('parseManifest: bad shapes', () => {
  it('not JSON, not an object, wrong schemaVersion', () => {
    expectInvalid(Buffer.from('{not json'), MediaType.ociManifest);
    expectInvalid(Buffer.from(''), MediaType.ociManifest);
    expectInvalid([], MediaType.ociManifest);
    expectInvalid('str', MediaType.ociManifest);
    expectInvalid(null, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 1, config: CONFIG, layers: [] }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: '2', config: CONFIG, layers: [] }, MediaType.ociManifest);
    expectInvalid({ config: CONFIG, layers: [] }, MediaType.ociManifest);
  });
  it('unknown or conflicting media types', () => {
    expectInvalid({ schemaVersion: 2, mediaType: 'application/x-unknown', config: CONFIG, layers: [] }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [] }, 'application/x-unknown');
    expectInvalid({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: CONFIG, layers: [] }, MediaType.dockerManifest);
    expectInvalid({ schemaVersion: 2, mediaType: 7, config: CONFIG, layers: [] }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [] }, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    expectInvalid({ schemaVersion: 2 }, undefined);
  });
  it('image manifest shape errors', () => {
    expectInvalid({ schemaVersion: 2, layers: [] }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: {} }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [], manifests: [] }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: 'x', layers: [] }, MediaType.ociManifest);
  });
  it('descriptor errors: digest, size, mediaType, urls, annotations, artifactType', () => {
    const bad = [
      { ...LAYER, digest: 'sha256:abc' },
      { ...LAYER, digest: 'md5:' + 'a'.repeat(32) },
      { ...LAYER, digest: undefined },
      { ...LAYER, size: -1 },
      { ...LAYER, size: 1.5 },
      { ...LAYER, size: '100' },
      { ...LAYER, mediaType: 'not a media type' },
      { ...LAYER, mediaType: undefined },
      { ...LAYER, urls: 'https://x' },
      { ...LAYER, annotations: { a: 1 } },
      { ...LAYER, artifactType: 'nope' },
    ];
    for (const layer of bad) expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [layer] }, MediaType.ociManifest);
  });
  it('manifest-level annotations, artifactType and subject are validated', () => {
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [], annotations: ['x'] }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [], annotations: { a: { b: 'c' } } }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [], artifactType: 5 }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [], subject: { digest: d('x') } }, MediaType.ociManifest);
    expectInvalid({ schemaVersion: 2, config: CONFIG, layers: [], subject: 'sha256:x' }, MediaType.ociManifest);
  });
  it('more than 4 MiB is refused with 413', () => {
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    expectInvalid(big, MediaType.ociManifest, 413);
  });
});

describe('PutImage media types and ECR image sizes', () => {
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: CONFIG, layers: [LAYER, LAYER2] };
  const bare = { schemaVersion: 2, config: CONFIG, layers: [LAYER] };
  const kind = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof RegistryError);
      return [e.kind, e.detail.field];
    }
    return undefined;
  };

  it('takes the manifest own mediaType, or imageManifestMediaType when it has none; both must agree', () => {
    assert.equal(putImageMediaType(buf(manifest), undefined), MediaType.ociManifest);
    assert.equal(putImageMediaType(buf(manifest), MediaType.ociManifest), MediaType.ociManifest);
    assert.equal(putImageMediaType(buf(bare), MediaType.ociManifest), MediaType.ociManifest);
    assert.equal(putImageMediaType(buf(bare), MediaType.dockerManifest), MediaType.dockerManifest);
    assert.deepEqual(kind(() => putImageMediaType(buf(bare), undefined)), ['ManifestInvalid', undefined]);
    assert.deepEqual(kind(() => putImageMediaType(Buffer.from('{nope'), undefined)), ['ManifestInvalid', undefined]);
    assert.deepEqual(kind(() => putImageMediaType(buf(manifest), MediaType.dockerManifest)), ['InvalidParameter', 'imageManifestMediaType']);
    assert.deepEqual(kind(() => putImageMediaType(buf(bare), 'text/plain')), ['InvalidParameter', 'imageManifestMediaType']);
  });

  it('counts the config with the layers, and nothing for an index', () => {
    assert.equal(imageSize(buf(manifest)), CONFIG.size + LAYER.size + LAYER2.size);
    assert.equal(imageSize(buf({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ ...CONFIG, mediaType: MediaType.ociManifest }] })), 0);
    assert.equal(imageSize(Buffer.from('not json')), 0);
  });
});

// A real SQLite store and registry domain in a temp dir, with helpers to push images of a given age.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { digestOf } from '../../src/domain/registry/digest.js';
import { MediaType } from '../../src/domain/registry/media-types.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import type { Repository } from '../../src/domain/registry/model.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

export const DAY = 24 * 60 * 60 * 1000;
export const silentLog = pino({ level: 'silent' });

export interface Fixture {
  dir: string;
  db: SqliteDb;
  meta: MetadataStore;
  blobs: FsBlobStore;
  registry: Registry;
  repo: Repository;
  close(): Promise<void>;
}

/** Runs `fn` on a fresh fixture and closes it afterwards. */
export async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await openFixture();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

export async function openFixture(repoName = 'app'): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-lifecycle-'));
  // The stores directly, as openStores builds them, without loading the whole server.
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  const blobs = new FsBlobStore(dir);
  await blobs.init();
  const meta = new MetadataStore(db);
  const registry = new Registry(meta, blobs);
  const repo = await registry.repositories.create({ registryId: '123456789012', name: repoName }, {});
  return {
    dir,
    db,
    meta,
    blobs,
    registry,
    repo,
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function* once(data: Buffer): AsyncIterable<Buffer> {
  yield data;
}

export async function putBlob(f: Fixture, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = digestOf('sha256', data);
  await f.registry.uploads.whole(f.repo, digest, once(data), data.length);
  return { digest, size: data.length };
}

/** Pushes a distinct one-layer image under each tag (or by digest when untagged), aged `ageDays`. */
export async function pushImage(f: Fixture, marker: string, tags: string[], ageDays: number, extra: Record<string, unknown> = {}): Promise<string> {
  const config = await putBlob(f, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', marker })));
  const layer = await putBlob(f, Buffer.from(`layer of ${marker}`));
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      ...extra,
    }),
  );
  return pushManifest(f, body, MediaType.ociManifest, tags, ageDays);
}

export async function pushManifest(f: Fixture, body: Buffer, mediaType: string, tags: string[], ageDays: number): Promise<string> {
  const digest = digestOf('sha256', body);
  await f.registry.images.put(f.repo, digest, body, mediaType);
  for (const tag of tags) await f.registry.images.put(f.repo, tag, body, mediaType);
  await f.db.run('UPDATE manifests SET pushed_at = ? WHERE repo_id = ? AND digest = ?', [Date.now() - ageDays * DAY, f.repo.id, digest]);
  return digest;
}

export async function pushIndex(f: Fixture, children: string[], tags: string[], ageDays: number): Promise<string> {
  const manifests = [];
  for (const child of children) {
    const m = (await f.meta.getManifest(f.repo.id, child))!;
    manifests.push({ mediaType: m.mediaType, digest: child, size: m.size, platform: { architecture: 'amd64', os: 'linux' } });
  }
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  return pushManifest(f, body, MediaType.ociIndex, tags, ageDays);
}

export async function setPolicy(f: Fixture, rules: unknown[]): Promise<string> {
  const text = JSON.stringify({ rules });
  await f.registry.repositories.changeSettings(f.repo, { lifecyclePolicyText: text });
  f.repo = await f.registry.repositories.get(f.repo);
  return text;
}

export function rule(rulePriority: number, selection: Record<string, unknown>): Record<string, unknown> {
  return { rulePriority, selection, action: { type: 'expire' } };
}

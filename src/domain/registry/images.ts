import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../store/meta/event-store.js';
import type { BlobEncryption } from '../encryption/blob-encryption.js';
import type { ImageStatus, MetadataStore, NewManifestRow, RepositoryRow } from '../../store/meta/metadata-store.js';
import { digestOf, looksLikeDigest, parseDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { imageFailure, resolveImageId, type ImageFailure, type ImageId } from './image-ids.js';
import { imageSize, parseManifest, putImageMediaType, type Descriptor, type ParsedManifest } from './manifest.js';
import { isIndexMediaType } from './media-types.js';
import { toRepository, type Manifest, type ManifestWithTags, type Repository, type Tag } from './model.js';
import { assertRepositoryName, assertTag, isValidTag, type RepoRef } from './names.js';
import type { PullRecorder } from './pull-recorder.js';
import { repositoryNotFound, type Repositories } from './repositories.js';
import { RESTORE_JOB, type RestoreJobPayload } from './restore-job.js';
import { isTagImmutable, readSettings } from './settings.js';

export interface PushResult {
  digest: string;
  subject?: string;
  created: boolean;
}

export type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';
export type ImageStatusFilter = ImageStatus | 'ANY';

export interface ExpiryRecord {
  rulePriority: number | null;
  reason: 'rule' | 'subject-expired';
}

/**
 * Runs inside a push's transaction once the image is in, so what it records (scan on push queues a
 * scan job) commits with the push or not at all. It must be quick: the push waits for it. It may
 * return a function to call once the push has committed (to wake a worker for the job it queued).
 */
export type PushHook = (
  tx: MetadataStore,
  repo: RepositoryRow,
  pushed: { digest: string; tag?: string; mediaType: string; configMediaType?: string },
) => Promise<void | (() => void)>;

/** Manifests, tags and images: pushed, pulled, listed and deleted here by every door. */
export class Images {
  private readonly pushHooks: PushHook[] = [];

  constructor(
    private readonly meta: MetadataStore,
    private readonly repositories: Repositories,
    private readonly pulls: PullRecorder,
    /** Refuses reads of a repository whose KMS key cannot be used. */
    private readonly encryption: Pick<BlobEncryption, 'assertReadable'>,
    /** Lets this process's job workers know at once that a job was queued (a restore). */
    private readonly wakeWorkers: () => void = () => undefined,
  ) {}

  /** Adds a hook every push runs in its transaction (see PushHook). */
  onPush(hook: PushHook): void {
    this.pushHooks.push(hook);
  }

  // ---- pushing --------------------------------------------------------------------------------
  /** Validates a manifest push without touching state: reference, digest, body. */
  checkPush(reference: string, bytes: Buffer, contentType: string | undefined): { digest: string; tag?: string; manifest: ParsedManifest } {
    const byDigest = looksLikeDigest(reference);
    let digest: string;
    if (byDigest) {
      const parsed = parseDigest(reference);
      digest = digestOf(parsed.algorithm, bytes);
      if (digest !== reference) throw new RegistryError('DigestMismatch', 'manifest digest does not match its content', { digest: reference });
    } else {
      assertTag(reference);
      digest = digestOf('sha256', bytes);
    }
    return { digest, tag: byDigest ? undefined : reference, manifest: parseManifest(bytes, contentType) };
  }

  /** A push over /v2: the repository is only created (on push) once the manifest has been checked. */
  async push(ref: RepoRef, reference: string, bytes: Buffer, contentType: string | undefined, mayCreate?: () => Promise<void>): Promise<PushResult> {
    assertRepositoryName(ref.name);
    this.checkPush(reference, bytes, contentType);
    return this.put(await this.repositories.forPush(ref, mayCreate), reference, bytes, contentType);
  }

  /**
   * ECR's PutImage: the same push, refusing an image that is already there under the same tag (or,
   * untagged, at all). The manifest's own `mediaType` and `imageManifestMediaType` must agree; a
   * manifest without a `mediaType` needs `imageManifestMediaType`.
   */
  async putImage(ref: RepoRef, bytes: Buffer, opts: { mediaType?: string; tag?: string; digest?: string }): Promise<{ repository: Repository; manifest: Manifest }> {
    const repo = await this.repositories.forPush(ref);
    const mediaType = putImageMediaType(bytes, opts.mediaType);
    const digest = digestOf('sha256', bytes);
    if (opts.digest !== undefined && opts.digest !== digest) {
      throw new RegistryError('DigestMismatch', `Provided digest '${opts.digest}' does not match digest of the manifest '${digest}'`, { digest: opts.digest });
    }
    const existing = await this.meta.getManifest(repo.id, digest);
    const tag = opts.tag;
    // Pushing an archived image again restores it (as ECR does), so it is not "already there".
    const present = existing !== undefined && existing.imageStatus === 'ACTIVE';
    const alreadyThere = tag === undefined ? present : present && (await this.meta.getTag(repo.id, tag))?.digest === digest;
    if (alreadyThere) {
      throw new RegistryError(
        'ImageAlreadyExists',
        `Image with digest '${digest}' and tag '${tag ?? 'null'}' already exists in the repository with name '${repo.name}' in registry with id '${repo.registryId}'`,
        { digest },
      );
    }
    await this.put(repo, tag ?? digest, bytes, mediaType);
    return { repository: repo, manifest: (await this.meta.getManifest(repo.id, digest))! };
  }

  async put(repo: Repository, reference: string, bytes: Buffer, contentType: string | undefined): Promise<PushResult> {
    const { digest, tag, manifest } = this.checkPush(reference, bytes, contentType);
    await this.encryption.assertReadable(repo);
    const missingBlobs = await this.meta.missingBlobs(repo.id, manifest.blobs);
    if (missingBlobs.length > 0) {
      throw new RegistryError('ManifestBlobsMissing', `blob unknown to registry: ${missingBlobs[0]}`, { digest: missingBlobs[0], digests: missingBlobs });
    }
    const missingManifests = await this.meta.missingManifests(repo.id, manifest.manifests);
    if (missingManifests.length > 0) {
      throw new RegistryError('ReferencedManifestsMissing', `manifest unknown to registry: ${missingManifests[0]}`, {
        digest: missingManifests[0],
        digests: missingManifests,
      });
    }
    const row: NewManifestRow = {
      repoId: repo.id,
      digest,
      mediaType: manifest.mediaType,
      artifactType: manifest.artifactType ?? null,
      configMediaType: manifest.configMediaType ?? null,
      subject: manifest.subject?.digest ?? null,
      annotations: manifest.annotations ?? null,
      size: bytes.length,
      layersSize: manifest.layersSize,
      body: bytes,
      pushedAt: Date.now(),
      lastPulledAt: null,
    };
    const refs = [
      ...manifest.blobs.map((child) => ({ child, kind: 'blob' as const })),
      ...manifest.manifests.map((child) => ({ child, kind: 'manifest' as const })),
    ];
    const afterCommit: Array<() => void> = [];
    const created = await this.meta.transaction(async (tx) => {
      afterCommit.length = 0; // a retried transaction runs the hooks again
      // The repository and its settings as they are now, not as read before the transaction.
      const stored = await tx.getRepositoryById(repo.id);
      if (!stored) throw repositoryNotFound(repo);
      const fresh = await tx.insertManifest(row, refs);
      // A push of an image that is in the archive restores it at once (an index with the images it lists).
      const now = Date.now();
      if (!fresh && (await tx.activateManifest(repo.id, digest, now))) {
        for (const child of manifest.manifests) await tx.activateManifest(repo.id, child, now);
        await tx.events.append(storageClassEvent(repo, digest, 'STANDARD', { mediaType: manifest.mediaType, configMediaType: manifest.configMediaType ?? null, activatedAt: now, cause: 'push' }));
      }
      if (tag) {
        const current = await tx.getTag(repo.id, tag);
        if (current && current.digest !== digest) {
          if (isTagImmutable(readSettings(stored.settings), tag)) {
            throw new RegistryError(
              'TagImmutable',
              `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the tag is immutable.`,
            );
          }
        }
        if (current?.digest !== digest) await tx.putTag(repo.id, tag, digest, attachTime());
        if (fresh || current?.digest !== digest) await tx.events.append(imageEvent('image.pushed', repo, digest, tag, { mediaType: manifest.mediaType }));
      } else if (fresh) {
        await tx.events.append(imageEvent('image.pushed', repo, digest, undefined, { mediaType: manifest.mediaType }));
      }
      const pushed = { digest, ...(tag ? { tag } : {}), mediaType: manifest.mediaType, ...(manifest.configMediaType ? { configMediaType: manifest.configMediaType } : {}) };
      for (const hook of this.pushHooks) {
        const then = await hook(tx, stored, pushed);
        if (then) afterCommit.push(then);
      }
      return fresh;
    }, repo.id);
    for (const then of afterCommit) then();
    return { digest, subject: manifest.subject?.digest, created };
  }

  // ---- reading --------------------------------------------------------------------------------
  /** A manifest by tag or digest. Invalid tags are simply unknown, as the conformance suite expects. */
  async get(repo: Repository, reference: string): Promise<Manifest> {
    let manifest: Manifest | undefined;
    if (looksLikeDigest(reference)) {
      parseDigest(reference);
      manifest = await this.meta.getManifest(repo.id, reference);
    } else if (isValidTag(reference)) {
      manifest = await this.meta.getTaggedManifest(repo.id, reference);
    }
    if (!manifest) throw manifestNotFound(reference);
    assertPullable(manifest);
    await this.encryption.assertReadable(repo);
    return manifest;
  }

  async byDigest(repo: Repository, digest: string): Promise<Manifest | undefined> {
    return this.meta.getManifest(repo.id, digest);
  }

  /** A manifest with its repository, by tag (one query when found) or digest. */
  async find(ref: RepoRef, reference: string): Promise<{ repository: Repository; manifest: Manifest }> {
    if (!looksLikeDigest(reference) && isValidTag(reference)) {
      assertRepositoryName(ref.name);
      const found = await this.meta.getTaggedManifestByName(ref.registryId, ref.name, reference);
      if (found) {
        assertPullable(found.manifest);
        const repository = toRepository(found.repository);
        await this.encryption.assertReadable(repository);
        return { repository, manifest: found.manifest };
      }
    }
    const repository = await this.repositories.get(ref);
    return { repository, manifest: await this.get(repository, reference) };
  }

  /** Counts a pull of the image for lastRecordedPullTime, unless `principalArn` is excluded from that. */
  recordPull(repo: Repository, digest: string, principalArn?: string): void {
    this.pulls.record(repo, digest, principalArn);
  }

  async listTags(repo: Repository, last: string | undefined, n: number | undefined): Promise<Tag[]> {
    return this.meta.listTags(repo.id, last ?? '', n ?? 100_000);
  }

  /**
   * The images of the repository with their tags, oldest first; only tagged or untagged ones, and
   * only those in one image status, if asked (all of them by default).
   */
  async list(repo: Repository, tagStatus: TagStatus = 'ANY', imageStatus: ImageStatusFilter = 'ANY'): Promise<ManifestWithTags[]> {
    const all = await this.meta.listManifests(repo.id);
    return all.filter(
      (m) => (tagStatus === 'ANY' || (tagStatus === 'TAGGED') === m.tags.length > 0) && (imageStatus === 'ANY' || m.imageStatus === imageStatus),
    );
  }

  /** Sizes as ECR reports them: an image's config and layers; for an index, its largest child. */
  async sizes(repo: Repository, manifests: Manifest[]): Promise<Map<string, number>> {
    const sizes = new Map(manifests.map((m) => [m.digest, imageSize(m.body)]));
    if (!manifests.some((m) => isIndexMediaType(m.mediaType))) return sizes;
    const all = new Map((await this.meta.listManifests(repo.id)).map((m) => [m.digest, imageSize(m.body)]));
    for (const r of await this.meta.listIndexChildren(repo.id)) {
      if (!sizes.has(r.digest)) continue;
      sizes.set(r.digest, Math.max(sizes.get(r.digest) ?? 0, all.get(r.child) ?? 0));
    }
    return sizes;
  }

  /** Manifests an index of the repository lists: not images of their own for lifecycle. */
  indexedManifests(repo: Repository): Promise<Set<string>> {
    return this.meta.listIndexedManifests(repo.id);
  }

  /** Manifests an index of the repository lists while that index is not archived (ACTIVE or being restored). */
  async manifestsHeldByActiveIndexes(repo: Repository): Promise<Set<string>> {
    const active = new Set((await this.meta.listManifests(repo.id)).filter((m) => m.imageStatus !== 'ARCHIVED').map((m) => m.digest));
    return new Set((await this.meta.listIndexChildren(repo.id)).filter((pair) => active.has(pair.digest)).map((pair) => pair.child));
  }

  async tagsOf(repo: Repository, digest: string): Promise<string[]> {
    return this.meta.tagsOf(repo.id, digest);
  }

  async resolve(repo: Repository, id: ImageId): Promise<{ manifest: Manifest } | { failure: ImageFailure }> {
    return resolveImageId(this.meta, repo, id);
  }

  /**
   * BatchGetImage: each image, or why not; a successful get counts as a pull. An image asked for by
   * digest alone comes once per tag, its most recently attached tag first.
   */
  async batchGet(repo: Repository, ids: ImageId[], acceptedMediaTypes?: string[], principalArn?: string): Promise<{ images: Array<{ id: ImageId; manifest: Manifest }>; failures: ImageFailure[] }> {
    const images: Array<{ id: ImageId; manifest: Manifest }> = [];
    const failures: ImageFailure[] = [];
    const unreadable = await this.encryption.assertReadable(repo).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    for (const id of ids) {
      const found = await this.resolve(repo, id);
      if ('failure' in found) failures.push(found.failure);
      else if (found.manifest.imageStatus !== 'ACTIVE') failures.push(imageFailure(id, 'ImageNotFound', archivedReason(found.manifest)));
      else if (unreadable) failures.push(imageFailure(id, 'KmsError', unreadable.message));
      else if (acceptedMediaTypes && !acceptedMediaTypes.includes(found.manifest.mediaType)) {
        failures.push(imageFailure(id, 'ImageNotFound', 'Requested image not found in any of the accepted media types'));
      } else {
        const { manifest } = found;
        const tags = id.imageTag !== undefined ? [id.imageTag] : await this.meta.tagsOf(repo.id, manifest.digest);
        if (tags.length === 0) images.push({ id: { imageDigest: manifest.digest }, manifest });
        for (const imageTag of tags) images.push({ id: { imageDigest: manifest.digest, imageTag }, manifest });
        this.recordPull(repo, manifest.digest, principalArn);
      }
    }
    return { images, failures };
  }

  /** Manifests whose subject is `digest`, as descriptors for the referrers index. */
  async referrers(repo: Repository, digest: string, artifactType?: string): Promise<Descriptor[]> {
    parseDigest(digest);
    const rows = await this.meta.listReferrers(repo.id, digest);
    return rows
      .filter((m) => artifactType === undefined || m.artifactType === artifactType)
      .map((m) => {
        const d: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
        if (m.artifactType) d.artifactType = m.artifactType;
        if (m.annotations && Object.keys(m.annotations).length > 0) d.annotations = m.annotations;
        return d;
      });
  }

  async referrerManifests(repo: Repository, digest: string): Promise<Manifest[]> {
    return this.meta.listReferrers(repo.id, digest);
  }

  // ---- deleting -------------------------------------------------------------------------------
  // Every deletion resolves and removes in one transaction: a tag pushed meanwhile is never lost,
  // and an image goes with its last tag on every door.

  /** BatchDeleteImage: each id removed, or the failure ECR reports for it. */
  async batchDelete(repo: Repository, ids: ImageId[]): Promise<{ deleted: ImageId[]; failures: ImageFailure[] }> {
    const deleted: ImageId[] = [];
    const failures: ImageFailure[] = [];
    for (const id of ids) {
      await this.meta.transaction(async (tx) => {
        const found = await resolveImageId(tx, repo, id);
        // An id naming what an earlier id of the same request already deleted is not a failure.
        if ('failure' in found) return found.failure.failureCode === 'ImageNotFound' && deletedEarlier(deleted, id) ? 0 : failures.push(found.failure);
        const { digest } = found.manifest;
        const tags = await tx.tagsOf(repo.id, digest);
        const lastTag = id.imageTag !== undefined && tags.length === 1;
        const removesImage = id.imageTag === undefined || lastTag;
        if (removesImage && (await tx.isReferencedManifest(repo.id, digest))) {
          return failures.push(imageFailure(id, 'ImageReferencedByManifestList', 'Requested image referenced by a manifest list'));
        }
        if (id.imageTag !== undefined) {
          await tx.deleteTag(repo.id, id.imageTag);
          if (lastTag) await tx.deleteManifest(repo.id, digest);
          await tx.events.append(imageEvent('image.deleted', repo, digest, id.imageTag, { imageDeleted: lastTag }));
          return deleted.push({ imageDigest: digest, imageTag: id.imageTag });
        }
        await tx.deleteManifest(repo.id, digest);
        await tx.events.append(imageEvent('image.deleted', repo, digest, undefined, { imageDeleted: true, tags }));
        if (tags.length === 0) deleted.push({ imageDigest: digest });
        for (const t of tags) deleted.push({ imageDigest: digest, imageTag: t });
      });
    }
    return { deleted, failures };
  }

  /** Deletes the image by digest with all its tags (/v2 DELETE by digest). */
  async deleteByDigest(repo: Repository, digest: string): Promise<void> {
    parseDigest(digest);
    const deleted = await this.meta.transaction(async (tx) => {
      const tags = await tx.tagsOf(repo.id, digest);
      if (!(await tx.deleteManifest(repo.id, digest))) return false;
      await tx.events.append(imageEvent('image.deleted', repo, digest, undefined, { imageDeleted: true, tags }));
      return true;
    });
    if (!deleted) throw manifestNotFound(digest);
  }

  /**
   * Removes a tag as ECR does on /v2: when it was the image's last tag, the image goes too, unless
   * an index still lists it.
   */
  async untag(repo: Repository, tag: string): Promise<{ digest: string; imageDeleted: boolean }> {
    if (!isValidTag(tag)) throw manifestNotFound(tag);
    return this.meta.transaction(async (tx) => {
      const current = await tx.getTag(repo.id, tag);
      if (!current || !(await tx.deleteTag(repo.id, tag))) throw manifestNotFound(tag);
      const keep = (await tx.tagsOf(repo.id, current.digest)).length > 0 || (await tx.isReferencedManifest(repo.id, current.digest));
      const imageDeleted = !keep && (await tx.deleteManifest(repo.id, current.digest));
      await tx.events.append(imageEvent('image.deleted', repo, current.digest, tag, { imageDeleted }));
      return { digest: current.digest, imageDeleted };
    });
  }

  // ---- storage classes ------------------------------------------------------------------------
  // An archived image keeps its manifest, tags and blobs (garbage collection still sees them as
  // referenced); it is listed and described but not pulled. A restore is ECR's two steps:
  // UpdateImageStorageClass records the image ACTIVATING (still not pullable) and queues a restore
  // job; the job makes it ACTIVE. berth's job runs as soon as a worker takes it.

  /**
   * UpdateImageStorageClass: archives an ACTIVE image, or starts restoring an archived one (with
   * the images an index lists), in one transaction with its event or restore job. An image already
   * in the target class, being restored, or listed by an index that is not archived, is refused.
   */
  async updateStorageClass(repo: Repository, id: ImageId, target: 'ARCHIVE' | 'STANDARD'): Promise<{ manifest: Manifest; imageStatus: ImageStatus } | { failure: ImageFailure }> {
    const result = await this.meta.transaction(async (tx) => {
      const found = await resolveImageId(tx, repo, id);
      if ('failure' in found) return found;
      const { manifest } = found;
      if (manifest.imageStatus === 'ACTIVATING') throw storageClassRefused(`The image with digest '${manifest.digest}' is being restored to the STANDARD storage class`);
      if (target === 'ARCHIVE') {
        if (await tx.isReferencedByActiveManifest(repo.id, manifest.digest)) {
          throw storageClassRefused(`The image with digest '${manifest.digest}' is referenced by a manifest list that is not archived; archive the manifest list first`);
        }
        if (!(await tx.archiveManifest(repo.id, manifest.digest, Date.now()))) throw storageClassRefused(`The image with digest '${manifest.digest}' is already in the ARCHIVE storage class`);
        const detail = { mediaType: manifest.mediaType, configMediaType: manifest.configMediaType, cause: 'api' as const };
        await tx.events.append(storageClassEvent(repo, manifest.digest, 'ARCHIVE', detail));
        return { manifest, imageStatus: 'ARCHIVED' as const };
      }
      if (!(await tx.startActivation(repo.id, manifest.digest))) throw storageClassRefused(`The image with digest '${manifest.digest}' is already in the STANDARD storage class`);
      // An index comes back with the archived images it lists, or it could not be pulled.
      const children: string[] = [];
      for (const pair of await tx.listIndexChildren(repo.id)) {
        if (pair.digest === manifest.digest && (await tx.startActivation(repo.id, pair.child))) children.push(pair.child);
      }
      const payload: RestoreJobPayload = { repoId: repo.id, digest: manifest.digest, children };
      await tx.jobs.enqueue({ kind: RESTORE_JOB, payload: { ...payload }, dedupeKey: `${RESTORE_JOB}:${repo.id}:${manifest.digest}:${randomUUID()}` });
      return { manifest, imageStatus: 'ACTIVATING' as const };
    }, repo.id);
    if ('manifest' in result && result.imageStatus === 'ACTIVATING') this.wakeWorkers();
    return result;
  }

  /**
   * The restore job's work: the image (and the images of an index that came with it) goes from
   * ACTIVATING to ACTIVE, with ECR's storage class event, and, as after a push, the push hooks
   * run (scan on push). False when there is nothing left to do: the image was deleted, or pushed
   * again meanwhile (which restored it at once), or the job already ran.
   */
  async completeRestore(job: RestoreJobPayload): Promise<boolean> {
    const afterCommit: Array<() => void> = [];
    const done = await this.meta.transaction(async (tx) => {
      afterCommit.length = 0; // a retried transaction runs the hooks again
      const now = Date.now();
      for (const child of job.children) await tx.finishActivation(job.repoId, child, now);
      const stored = await tx.getRepositoryById(job.repoId);
      const manifest = stored && (await tx.getManifest(job.repoId, job.digest));
      if (!stored || !manifest || !(await tx.finishActivation(job.repoId, job.digest, now))) return false;
      const repo = toRepository(stored);
      await tx.events.append(storageClassEvent(repo, job.digest, 'STANDARD', { mediaType: manifest.mediaType, configMediaType: manifest.configMediaType, activatedAt: now, cause: 'api' }));
      const restored = { digest: job.digest, mediaType: manifest.mediaType, ...(manifest.configMediaType ? { configMediaType: manifest.configMediaType } : {}) };
      for (const hook of this.pushHooks) {
        const then = await hook(tx, stored, restored);
        if (then) afterCommit.push(then);
      }
      return true;
    }, job.repoId);
    for (const then of afterCommit) then();
    return done;
  }

  /**
   * Lifecycle transition to the archive: archives the image only if it still has exactly the tags
   * it was judged by and no active index lists it. False when left alone.
   */
  async archiveByLifecycle(repo: Repository, digest: string, judgedTags: string[], record: ExpiryRecord | { rulePriority: null; reason: 'subject-archived' }): Promise<boolean> {
    const planned = [...judgedTags].sort();
    return this.meta.transaction(async (tx) => {
      const current = (await tx.tagsOf(repo.id, digest)).sort();
      if (current.length !== planned.length || current.some((t, i) => t !== planned[i])) return false;
      if (await tx.isReferencedByActiveManifest(repo.id, digest)) return false;
      const manifest = await tx.getManifest(repo.id, digest);
      if (!manifest || !(await tx.archiveManifest(repo.id, digest, Date.now()))) return false;
      const cause = record.reason === 'subject-archived' ? ('subject-archived' as const) : ('lifecycle' as const);
      await tx.events.append(
        storageClassEvent(repo, digest, 'ARCHIVE', {
          mediaType: manifest.mediaType,
          configMediaType: manifest.configMediaType,
          cause,
          ...(record.rulePriority !== null ? { rulePriority: record.rulePriority } : {}),
        }),
      );
      return true;
    }, repo.id);
  }

  /**
   * Lifecycle expiry: deletes the image only if it still has exactly the tags it was judged by and
   * no index lists it, and records the expiry in the same transaction. False when left alone.
   */
  async expire(repo: Repository, digest: string, judgedTags: string[], record: ExpiryRecord): Promise<boolean> {
    const planned = [...judgedTags].sort();
    return this.meta.transaction(async (tx) => {
      const tags = await tx.tagsOf(repo.id, digest);
      const current = [...tags].sort();
      if (current.length !== planned.length || current.some((t, i) => t !== planned[i])) return false;
      if (await tx.isReferencedManifest(repo.id, digest)) return false;
      if (!(await tx.deleteManifest(repo.id, digest))) return false;
      await tx.lifecycle.recordEvent({ registryId: repo.registryId, repositoryName: repo.name, digest, tags, ...record, at: Date.now() });
      await tx.events.append(imageEvent('lifecycle.expired', repo, digest, undefined, { tags, ...record }));
      return true;
    });
  }
}

let lastAttach = 0;

/** When a tag is attached: strictly increasing in this process, so tags keep the order they came in. */
function attachTime(): number {
  lastAttach = Math.max(Date.now(), lastAttach + 1);
  return lastAttach;
}

function deletedEarlier(deleted: ImageId[], id: ImageId): boolean {
  return deleted.some((d) => (id.imageDigest === undefined || d.imageDigest === id.imageDigest) && (id.imageTag === undefined || d.imageTag === id.imageTag));
}

function imageEvent(type: NewEvent['type'], repo: Repository, digest: string, tag: string | undefined, detail: Record<string, unknown>): NewEvent {
  return { type, registryId: repo.registryId, repositoryName: repo.name, digest, ...(tag === undefined ? {} : { tag }), detail };
}

/** Refuses a pull of an image that is not ACTIVE: ECR answers it with a 404 until its restore has completed. */
function assertPullable(manifest: Manifest): void {
  if (manifest.imageStatus !== 'ACTIVE') throw new RegistryError('ImageArchived', archivedReason(manifest), { digest: manifest.digest });
}

function archivedReason(manifest: Manifest): string {
  if (manifest.imageStatus === 'ACTIVATING') return `The image with digest '${manifest.digest}' is being restored from the archive and cannot be pulled until the restore completes`;
  return `The image with digest '${manifest.digest}' is archived and cannot be pulled; restore it to the STANDARD storage class first (UpdateImageStorageClass)`;
}

/** What the outbox records when an image changes storage class (ECR's UPDATE_STORAGE_CLASS image action). */
export function storageClassEvent(
  repo: Repository,
  digest: string,
  target: 'ARCHIVE' | 'STANDARD',
  detail: { mediaType: string; configMediaType: string | null; activatedAt?: number; cause: 'api' | 'push' | 'lifecycle' | 'subject-archived'; rulePriority?: number },
): NewEvent {
  return imageEvent('image.storage-class-changed', repo, digest, undefined, { targetStorageClass: target, ...detail });
}

function storageClassRefused(message: string): RegistryError {
  return new RegistryError('StorageClassUpdateNotSupported', message);
}

export function manifestNotFound(reference: string): RegistryError {
  return new RegistryError('ManifestNotFound', 'manifest unknown to registry', { reference });
}

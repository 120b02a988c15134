import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { ImageScanRow } from '../../store/meta/scan-store.js';
import { isIndexMediaType } from '../registry/media-types.js';
import { toRepository, type Repository } from '../registry/model.js';
import type { Registry } from '../registry/registry.js';
import { noteShortLivedBytes, OFTEN_COLLECT_EVERY_BYTES } from '../../runtime/heap.js';
import { isScanError, ScanError } from './errors.js';
import { buildFindings, type ScanResult } from './findings.js';
import { analyzeLayer, ANALYZER_VERSION, type LayerFacts } from './layers/analyze.js';
import { mergeLayers } from './layers/merge.js';
import { matchPackages, osSupported, ParsedRecords } from './match.js';
import { OS_PACKAGE_TYPES } from './model.js';
import { isStale } from './vulndb/vulndb.js';

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
/** Bytes read from a layer's blob at a time: each chunk is one inflate call (fewer, larger calls run faster). */
const READ_CHUNK = 1024 * 1024;
/**
 * Layer facts kept parsed in memory, by the length of their JSON: a base layer's facts (every file
 * its OS packages own) run to megabytes, and reading and parsing them again was a quarter of a
 * rescan. Facts of a layer digest never change, so nothing needs invalidating.
 */
const FACTS_CACHE_JSON_BYTES = 32 * 1024 * 1024;

export const COMPLETE_DESCRIPTION = 'The scan was completed successfully.';
export const UNSUPPORTED_DESCRIPTION = 'UnsupportedImageError: The operating system and/or package manager are not supported.';

interface ManifestLayers {
  layers: Array<{ digest: string; mediaType: string }>;
}

/** Whether a manifest is an image berth can scan (not an index, not an artifact); why not otherwise. */
export function scannableImage(mediaType: string, configMediaType: string | null | undefined): string | undefined {
  if (isIndexMediaType(mediaType)) return 'The operation is not supported for manifest lists and image indexes.';
  if (!configMediaType || !IMAGE_CONFIG_TYPES.has(configMediaType)) return 'The image type is not supported for scanning.';
  return undefined;
}

function isTarLayer(mediaType: string): boolean {
  return mediaType.includes('tar') || mediaType === 'application/vnd.docker.image.rootfs.diff';
}

/** Scans images: reads their layers (each once, then from the cache), matches, stores findings. */
export class ImageScanner {
  private readonly parsedRecords = new ParsedRecords();
  private readonly factsCache = new LRUCache<string, LayerFacts>({ maxSize: FACTS_CACHE_JSON_BYTES });

  constructor(
    private readonly meta: MetadataStore,
    private readonly registry: Registry,
    private readonly log?: Logger,
  ) {}

  /**
   * Runs the scan of one image and records its outcome. A corrupt or hostile layer fails the scan
   * (status FAILED with the reason); an OS berth cannot read makes it UNSUPPORTED_IMAGE; other
   * errors (the database went away) are thrown, so the job is retried.
   */
  async run(repoId: string, digest: string): Promise<ImageScanRow | undefined> {
    const scan = await this.meta.scans.getScan(repoId, digest);
    if (!scan) return undefined; // the image was deleted meanwhile
    const repoRow = await this.meta.getRepositoryById(repoId);
    const manifest = repoRow && (await this.meta.getManifest(repoId, digest));
    if (!repoRow || !manifest) return undefined;
    const repo = toRepository(repoRow);
    await this.meta.scans.updateScan(repoId, digest, { status: 'IN_PROGRESS' });
    try {
      const notScannable = scannableImage(manifest.mediaType, manifest.configMediaType);
      if (notScannable) throw new ScanError('UnsupportedImageType', notScannable);
      const parsed = JSON.parse(manifest.body.toString('utf8')) as ManifestLayers;
      const layers = [];
      for (const layer of parsed.layers ?? []) {
        if (!isTarLayer(layer.mediaType)) continue;
        layers.push({ digest: layer.digest, facts: await this.layerFacts(repo, layer.digest) });
      }
      const contents = mergeLayers(layers);
      const hasOsPackages = contents.packages.some((p) => OS_PACKAGE_TYPES.has(p.type));
      if (!contents.os && !hasOsPackages && (scan.scanType === 'BASIC' || contents.packages.length === 0)) {
        return this.finish(repo, scan, { status: 'UNSUPPORTED_IMAGE', description: UNSUPPORTED_DESCRIPTION });
      }
      // An OS whose packages berth has no advisories for: basic scanning (OS packages only) cannot
      // vouch for the image, so it says so rather than report it clean.
      if (contents.os && !osSupported(contents.os) && scan.scanType === 'BASIC') {
        return this.finish(repo, scan, { status: 'UNSUPPORTED_IMAGE', description: UNSUPPORTED_DESCRIPTION });
      }
      const matches = await matchPackages(contents.os, contents.packages, this.meta.scans, this.parsedRecords);
      const result: ScanResult = buildFindings(matches, scan.scanType);
      const db = await this.meta.scans.vulnDbFreshness();
      const description = db.empty
        ? `${COMPLETE_DESCRIPTION} Warning: the vulnerability database is empty.`
        : isStale(db.newestModified) ? `${COMPLETE_DESCRIPTION} Warning: the vulnerability database is older than 7 days.` : COMPLETE_DESCRIPTION;
      return this.finish(repo, scan, { status: 'COMPLETE', description, result, vulnSourceUpdatedAt: db.newestModified });
    } catch (e) {
      // The image (or its repository) was deleted while it was being scanned: nothing to record.
      if (!(await this.meta.scans.getScan(repoId, digest))) return undefined;
      if (!isScanError(e)) throw e;
      this.log?.warn({ repository: repo.name, digest, err: e.message }, 'image scan failed');
      return this.finish(repo, scan, { status: e.kind === 'UnsupportedImageType' ? 'UNSUPPORTED_IMAGE' : 'FAILED', description: e.message });
    }
  }

  /** Marks a scan FAILED (its job gave up after retries). */
  async fail(repoId: string, digest: string, reason: string): Promise<void> {
    await this.meta.scans.updateScan(repoId, digest, { status: 'FAILED', description: reason, completedAt: Date.now() });
  }

  private async finish(
    repo: Repository,
    scan: ImageScanRow,
    outcome: { status: 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE'; description: string; result?: ScanResult; vulnSourceUpdatedAt?: number | null },
  ): Promise<ImageScanRow | undefined> {
    const completedAt = Date.now();
    const stillThere = await this.meta.transaction(async (tx) => {
      const updated = await tx.scans.updateScan(repo.id, scan.digest, { ...outcome, completedAt });
      if (!updated) return false;
      const tags = await tx.tagsOf(repo.id, scan.digest);
      const counts = outcome.result?.counts ?? {};
      // ECR's "ECR Image Scan" event: scan-status, repository, digest, tags, non-zero severity counts.
      await tx.events.append({
        type: 'scan.completed',
        registryId: repo.registryId,
        repositoryName: repo.name,
        digest: scan.digest,
        detail: { 'scan-status': outcome.status, 'repository-name': repo.name, 'image-digest': scan.digest, 'image-tags': tags, 'finding-severity-counts': counts },
      });
      return true;
    });
    return stillThere ? this.meta.scans.getScan(repo.id, scan.digest) : undefined;
  }

  /** A layer's facts from the cache, or read from the blob once and cached for every image sharing it. */
  private async layerFacts(repo: Repository, digest: string): Promise<LayerFacts> {
    const held = this.factsCache.get(digest);
    if (held) return held;
    const cached = await this.meta.scans.getLayerFacts(digest, ANALYZER_VERSION);
    if (cached) return this.remember(digest, JSON.parse(cached) as LayerFacts, cached.length);
    const { body } = await this.registry.blobs.open(repo, digest);
    let facts: LayerFacts;
    if (Buffer.isBuffer(body)) {
      facts = await analyzeLayer((async function* () { yield body; })());
    } else {
      try {
        facts = await analyzeLayer(readAll(body));
      } finally {
        await body.close();
      }
    }
    const json = JSON.stringify(facts);
    await this.meta.scans.putLayerFacts(digest, ANALYZER_VERSION, json);
    return this.remember(digest, facts, json.length);
  }

  private remember(digest: string, facts: LayerFacts, jsonLength: number): LayerFacts {
    this.factsCache.set(digest, facts, { size: Math.max(1, jsonLength) });
    return facts;
  }
}

/** The blob's bytes in chunks; the next chunk is read (and decrypted) while the consumer works on this one. */
async function* readAll(reader: { read(into: Buffer): Promise<number> }): AsyncGenerator<Buffer> {
  const readChunk = async () => {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    return buf.subarray(0, await reader.read(buf));
  };
  let next = readChunk();
  for (;;) {
    const chunk = await next;
    if (chunk.length === 0) return;
    // Each chunk read, decrypted and inflated is garbage soon after: collect it while young.
    noteShortLivedBytes(chunk.length, OFTEN_COLLECT_EVERY_BYTES);
    next = readChunk();
    // A consumer that stops early leaves one read in flight: its failure must not go unhandled.
    next.catch(() => undefined);
    yield chunk;
  }
}

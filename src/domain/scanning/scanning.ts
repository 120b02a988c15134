import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { gunzip } from '../../runtime/gunzip.js';
import type { Job } from '../../store/meta/job-store.js';
import type { MetadataStore, RepositoryRow } from '../../store/meta/metadata-store.js';
import type { ImageScanRow } from '../../store/meta/scan-store.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { Manifest, Repository } from '../registry/model.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';
import {
  effectiveScanning,
  readConfiguration,
  repositoryScanOnPush,
  writeConfiguration,
  type EffectiveScanning,
  type RegistryScanningConfiguration,
  type ScanType,
} from './configuration.js';
import { ScanError } from './errors.js';
import type { ScanResult } from './findings.js';
import { ImageScanner, scannableImage } from './scanner.js';
import { VulnDb } from './vulndb/vulndb.js';

export const SCAN_JOB = 'scan.image';

/** How a scan ended, for the metrics. */
export interface ScanOutcome {
  status: ImageScanRow['status'];
  scanType: ImageScanRow['scanType'];
  /** Findings per severity (empty unless it completed). */
  counts: Record<string, number>;
}
export const RESCAN_JOB = 'scan.rescan-continuous';
/** ECR basic scanning: one scan per image per 24 hours, scan on push included. */
export const SCAN_INTERVAL_MS = 24 * 60 * 60_000;
/**
 * Completed scans' results kept parsed, by the length of their JSON: a client waiting for a scan
 * asks for its findings again and again, and an image with a thousand findings is a megabyte of
 * JSON to read and parse per call. A result is keyed by the scan's completion time, so a rescan
 * (on this node or another) is read afresh.
 */
const RESULTS_CACHE_JSON_BYTES = 16 * 1024 * 1024;

/** Image scanning: the vulnerability database, scans and their findings, scanning configuration. */
export class Scanning {
  readonly vulnDb: VulnDb;
  readonly scanner: ImageScanner;
  private readonly results = new LRUCache<string, ScanResult>({ maxSize: RESULTS_CACHE_JSON_BYTES });

  constructor(
    private readonly meta: MetadataStore,
    registry: Registry,
    private readonly jobs: JobQueue,
    log?: Logger,
  ) {
    this.vulnDb = new VulnDb(meta.scans, () => this.databaseChanged());
    this.scanner = new ImageScanner(meta, registry, log);
    registry.images.onPush((tx, repo, pushed) => this.scanOnPush(tx, repo, pushed));
  }

  // ---- scans ----------------------------------------------------------------------------------
  /** StartImageScan: queues a scan of the image, at most one per image per 24 hours. */
  async startScan(repo: Repository, manifest: Manifest): Promise<ImageScanRow> {
    if (manifest.imageStatus === 'ARCHIVED') {
      throw new RegistryError('ImageArchived', `The image with digest '${manifest.digest}' is archived and cannot be scanned; restore it to the STANDARD storage class first.`, { digest: manifest.digest });
    }
    if (manifest.imageStatus === 'ACTIVATING') {
      throw new RegistryError('ImageArchived', `The image with digest '${manifest.digest}' is being restored from the archive and cannot be scanned until the restore completes.`, { digest: manifest.digest });
    }
    const notScannable = scannableImage(manifest.mediaType, manifest.configMediaType);
    if (notScannable) throw new ScanError('UnsupportedImageType', notScannable);
    const config = await readConfiguration(this.meta, repo.registryId);
    if (config.scanType === 'ENHANCED') {
      throw new ScanError('Validation', 'Manual scans are not supported when the registry uses enhanced scanning: images are scanned on push or continuously.');
    }
    if (!(await this.queue(repo.id, manifest.digest, config.scanType, Date.now() - SCAN_INTERVAL_MS))) {
      throw new ScanError('LimitExceeded', 'The scan quota per image has been exceeded. Wait and try again.');
    }
    return (await this.meta.scans.getScan(repo.id, manifest.digest))!;
  }

  /** The image's latest scan; undefined when it was never scanned. */
  scanOf(repo: Repository, digest: string): Promise<ImageScanRow | undefined> {
    return this.meta.scans.getScan(repo.id, digest);
  }

  /** A completed scan's findings and counts; null while it has none (not complete, or failed). */
  async findingsOf(scan: ImageScanRow): Promise<ScanResult | null> {
    if (scan.status !== 'COMPLETE') return null;
    const key = `${scan.repoId}\n${scan.digest}\n${scan.completedAt}`;
    const held = this.results.get(key);
    if (held) return held;
    const stored = await this.meta.scans.getScanResult(scan.repoId, scan.digest);
    if (!stored) return null;
    const result = JSON.parse(stored.json) as ScanResult;
    // Cached only under the completion time it was stored with: a rescan may have finished meanwhile.
    if (stored.completedAt === scan.completedAt) this.results.set(key, result, { size: Math.max(1, stored.json.length) });
    return result;
  }

  /** Latest scans of several images of a repository, by digest (for DescribeImages). */
  async scansOf(repo: Repository, digests: string[]): Promise<Map<string, ImageScanRow>> {
    return new Map((await this.meta.scans.listScans(repo.id, digests)).map((s) => [s.digest, s]));
  }

  // ---- configuration --------------------------------------------------------------------------
  configuration(registryId: string): Promise<RegistryScanningConfiguration> {
    return readConfiguration(this.meta, registryId);
  }

  /** Stores the registry's configuration; refuses rules its scan type cannot honour. */
  async putConfiguration(registryId: string, config: RegistryScanningConfiguration): Promise<RegistryScanningConfiguration> {
    await writeConfiguration(this.meta, registryId, config);
    return config;
  }

  async repositoryScanning(repo: Repository): Promise<EffectiveScanning> {
    return effectiveScanning(await this.configuration(repo.registryId), repo.name, repo.settings.imageScanningConfiguration.scanOnPush);
  }

  // ---- background work ------------------------------------------------------------------------
  /**
   * Runs queued scans; after the last failed attempt the scan is marked FAILED with the error.
   * `finished` hears of every scan that ended (completed, failed, or found the image unsupported).
   */
  scanJobHandler(finished?: (outcome: ScanOutcome) => void): JobHandler {
    // A process that runs scans readies its gunzip (a worker thread) now, not during its first scan.
    void gunzip();
    return async (job: Job) => {
      const { repoId, digest } = job.payload as { repoId: string; digest: string };
      try {
        const scan = await this.scanner.run(repoId, digest);
        if (scan) finished?.({ status: scan.status, scanType: scan.scanType, counts: scan.counts ?? {} });
      } catch (e) {
        if (job.attempts >= job.maxAttempts) {
          await this.scanner.fail(repoId, digest, `Scan failed: ${(e as Error).message}`);
          const scan = await this.meta.scans.getScan(repoId, digest);
          if (scan) finished?.({ status: 'FAILED', scanType: scan.scanType, counts: {} });
        }
        throw e;
      }
    };
  }

  /** Rescans every image of repositories under CONTINUOUS_SCAN (enhanced), after the database changed. */
  rescanJobHandler(): JobHandler {
    return async () => {
      const configs = new Map<string, RegistryScanningConfiguration>();
      for (const { repoId, digest } of await this.meta.scans.listCompletedScans()) {
        const repo = await this.meta.getRepositoryById(repoId);
        if (!repo) continue;
        let config = configs.get(repo.registryId);
        if (!config) configs.set(repo.registryId, (config = await readConfiguration(this.meta, repo.registryId)));
        if (effectiveScanning(config, repo.name, repositoryScanOnPush(repo.settings)).scanFrequency !== 'CONTINUOUS_SCAN') continue;
        await this.queue(repoId, digest, config.scanType, Number.MAX_SAFE_INTEGER);
      }
    };
  }

  private async databaseChanged(): Promise<void> {
    await this.jobs.enqueue({ kind: RESCAN_JOB, dedupeKey: `scan.rescan:${Date.now()}`, exclusive: true });
  }

  /**
   * Scan on push: inside the push's transaction, so the scan is queued exactly when the push
   * commits; once it has, this process's worker is woken for it instead of waiting for its next poll.
   */
  private async scanOnPush(tx: MetadataStore, repo: RepositoryRow, pushed: { digest: string; mediaType: string; configMediaType?: string }): Promise<void | (() => void)> {
    if (scannableImage(pushed.mediaType, pushed.configMediaType)) return;
    const config = await readConfiguration(tx, repo.registryId);
    if (!effectiveScanning(config, repo.name, repositoryScanOnPush(repo.settings)).scanOnPush) return;
    if (await this.queue(repo.id, pushed.digest, config.scanType, Date.now() - SCAN_INTERVAL_MS, tx)) return () => this.jobs.poke();
  }

  /** Records the request and enqueues the job in one transaction; false when rate-limited. */
  private async queue(repoId: string, digest: string, scanType: ScanType, notBefore: number, tx?: MetadataStore): Promise<boolean> {
    const now = Date.now();
    const run = async (t: MetadataStore) => {
      if (!(await t.scans.requestScan(repoId, digest, scanType, now, notBefore))) return false;
      await t.jobs.enqueue({ kind: SCAN_JOB, payload: { repoId, digest }, dedupeKey: `scan:${repoId}:${digest}:${now}`, maxAttempts: 3 });
      return true;
    };
    const queued = tx ? await run(tx) : await this.meta.transaction(run);
    if (queued && !tx) this.jobs.poke();
    return queued;
  }
}

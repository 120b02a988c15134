import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GcReport } from '../../domain/gc/collect.js';
import type { JobHandler } from '../../domain/jobs/worker.js';
import type { LifecycleRunResult } from '../../domain/lifecycle/runner.js';
import type { ScanOutcome } from '../../domain/scanning/scanning.js';
import type { StorageFigures } from '../../domain/stats/storage-figures.js';
import type { RequestObserver } from './request-record.js';
import { RequestMetrics } from './request-metrics.js';

/** berth's Prometheus metrics: one registry, fed by the request wrapper, the job worker and the domain's figures. */
export class BerthMetrics {
  readonly registry = new Registry();
  private readonly uploads = new Gauge({ name: 'berth_uploads_in_progress', help: 'Blob upload sessions started and not yet finished or cancelled.', registers: [this.registry] });
  private readonly repositoryBytes = new Gauge({ name: 'berth_repository_storage_bytes', help: 'Bytes of the blobs each repository holds, each blob counted once per repository.', labelNames: ['registry_id', 'repository', 'region'] as const, registers: [this.registry] });
  private readonly storedBytes = new Gauge({ name: 'berth_storage_bytes', help: 'Bytes of all stored blobs (of every region served), each counted once however many repositories of its region hold it.', registers: [this.registry] });
  private readonly repositories = new Gauge({ name: 'berth_repositories', help: 'Repositories, in all registries.', registers: [this.registry] });
  private readonly jobs = new Gauge({ name: 'berth_jobs', help: 'Jobs in the queue, by kind and status.', labelNames: ['kind', 'status'] as const, registers: [this.registry] });
  private readonly jobRuns = new Counter({ name: 'berth_job_runs_total', help: 'Job attempts run by this node, by kind and outcome.', labelNames: ['kind', 'outcome'] as const, registers: [this.registry] });
  private readonly jobDuration = new Histogram({ name: 'berth_job_duration_seconds', help: 'Time a job attempt ran on this node, by kind.', labelNames: ['kind'] as const, buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800], registers: [this.registry] });
  private readonly gcBlobsDeleted = new Counter({ name: 'berth_gc_blobs_deleted_total', help: 'Blobs garbage collection deleted.', registers: [this.registry] });
  private readonly gcBytesFreed = new Counter({ name: 'berth_gc_bytes_freed_total', help: 'Bytes garbage collection freed.', registers: [this.registry] });
  private readonly gcUploadsRemoved = new Counter({ name: 'berth_gc_uploads_removed_total', help: 'Abandoned uploads garbage collection removed.', registers: [this.registry] });
  private readonly gcLastRun = new Gauge({ name: 'berth_gc_last_run_timestamp_seconds', help: 'When this node last finished a garbage collection, Unix seconds.', registers: [this.registry] });
  private readonly lifecycleExpired = new Counter({ name: 'berth_lifecycle_images_expired_total', help: 'Images lifecycle policies expired, by registry and repository.', labelNames: ['registry_id', 'repository'] as const, registers: [this.registry] });
  private readonly scans = new Counter({ name: 'berth_scans_total', help: 'Image scans this node finished, by status and scan type.', labelNames: ['status', 'scan_type'] as const, registers: [this.registry] });
  private readonly scanFindings = new Counter({ name: 'berth_scan_findings_total', help: 'Findings the scans this node completed reported, by severity (an image scanned again counts again).', labelNames: ['severity'] as const, registers: [this.registry] });
  private readonly lifecycleLastRun = new Gauge({ name: 'berth_lifecycle_last_run_timestamp_seconds', help: 'When this node last finished a lifecycle run, Unix seconds.', registers: [this.registry] });
  private readonly requests = new RequestMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts every finished request by door, action and status, with its latency and bytes. */
  readonly observer: RequestObserver = this.requests.observer;

  /** Wraps a job handler to count its attempts and time them. */
  timeJob(kind: string, handler: JobHandler): JobHandler {
    return async (job) => {
      const end = this.jobDuration.startTimer({ kind });
      try {
        await handler(job);
        this.jobRuns.inc({ kind, outcome: 'succeeded' });
      } catch (err) {
        this.jobRuns.inc({ kind, outcome: 'failed' });
        throw err;
      } finally {
        end();
      }
    };
  }

  gcFinished(report: GcReport): void {
    if (report.dryRun) return;
    this.gcBlobsDeleted.inc(report.blobsDeleted);
    this.gcBytesFreed.inc(report.bytesFreed);
    this.gcUploadsRemoved.inc(report.uploadsRemoved);
    this.gcLastRun.set(Date.now() / 1000);
  }

  lifecycleFinished(results: LifecycleRunResult[]): void {
    for (const r of results) if (r.expired.length > 0) this.lifecycleExpired.inc({ registry_id: r.registryId, repository: r.repositoryName }, r.expired.length);
    this.lifecycleLastRun.set(Date.now() / 1000);
  }

  scanFinished(outcome: ScanOutcome): void {
    this.scans.inc({ status: outcome.status, scan_type: outcome.scanType });
    for (const [severity, n] of Object.entries(outcome.counts)) if (n > 0) this.scanFindings.inc({ severity }, n);
  }

  /** Figures of the audit trail's writer: waiting, written, dropped. */
  /** Audit trails whose queues the gauges sum (one per region served). */
  private readonly trails: { waiting: number; written: number; dropped: number }[] = [];

  watchAuditTrail(trail: { waiting: number; written: number; dropped: number }): void {
    if (this.trails.push(trail) > 1) return;
    const trails = this.trails;
    const sum = (field: 'waiting' | 'written' | 'dropped') => trails.reduce((n, t) => n + t[field], 0);
    new Gauge({ name: 'berth_audit_records_waiting', help: 'Audit records recorded and not yet written to the database.', registers: [this.registry], collect() { this.set(sum('waiting')); } });
    new Gauge({ name: 'berth_audit_records_written', help: 'Audit records this node has written since it started.', registers: [this.registry], collect() { this.set(sum('written')); } });
    new Gauge({ name: 'berth_audit_records_dropped', help: 'Audit records this node dropped because too many were waiting.', registers: [this.registry], collect() { this.set(sum('dropped')); } });
  }

  /** The exposition text, with the storage and queue gauges set from `figures`. */
  async render(figures: StorageFigures): Promise<string> {
    this.repositoryBytes.reset();
    for (const r of figures.repositories) this.repositoryBytes.set({ registry_id: r.registryId, repository: r.repositoryName, region: r.region ?? '' }, r.bytes);
    this.repositories.set(figures.repositories.length);
    this.storedBytes.set(figures.totalBytes);
    this.uploads.set(figures.uploadsInProgress);
    this.jobs.reset();
    for (const j of figures.jobs) this.jobs.set({ kind: j.kind, status: j.status }, j.count);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

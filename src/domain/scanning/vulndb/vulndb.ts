import type { ScanStore, VulnDbStatus } from '../../../store/meta/scan-store.js';
import { importVulnDb, updateVulnDb, type ImportReport } from './import.js';

/** A database older than this makes findings carry a warning. */
export const STALE_AFTER_MS = 7 * 24 * 60 * 60_000;

/**
 * Whether the database is too old to vouch for an image: its age is that of its newest record's
 * `modified` (when the sources last changed an advisory), not when it was imported, so importing
 * an old snapshot again does not make it fresh. An empty database is stale.
 */
export function isStale(newestModified: number | null, now = Date.now()): boolean {
  return newestModified === null || now - newestModified > STALE_AFTER_MS;
}

/**
 * The vulnerability database every node shares, in the metadata store. `onChanged` runs after an
 * import or update that added or replaced records (continuous scanning rescans then).
 */
export class VulnDb {
  constructor(
    private readonly store: ScanStore,
    private readonly onChanged: () => Promise<void> = async () => {},
  ) {}

  async import(paths: string[]): Promise<ImportReport> {
    return this.changed(await importVulnDb(this.store, paths));
  }

  async update(url: string): Promise<ImportReport> {
    return this.changed(await updateVulnDb(this.store, url));
  }

  status(): Promise<VulnDbStatus> {
    return this.store.vulnDbStatus();
  }

  private async changed(report: ImportReport): Promise<ImportReport> {
    if (report.added + report.replaced > 0) await this.onChanged();
    return report;
  }
}

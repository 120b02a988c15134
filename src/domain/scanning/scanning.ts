import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Registry } from '../registry/registry.js';
import { VulnDb } from './vulndb/vulndb.js';

/** Image scanning: the vulnerability database, scans and their findings, scanning configuration. */
export class Scanning {
  readonly vulnDb: VulnDb;

  constructor(
    private readonly meta: MetadataStore,
    private readonly registry: Registry,
    private readonly jobs: JobQueue,
  ) {
    this.vulnDb = new VulnDb(meta.scans);
  }
}

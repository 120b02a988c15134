import type { Job, JobStatus, JobStore, NewJob } from '../../store/meta/job-store.js';

export type { Job, JobStatus, NewJob } from '../../store/meta/job-store.js';

/** Enqueues background work and lets a worker in this process know at once. */
export class JobQueue {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly store: JobStore) {}

  async enqueue(job: NewJob): Promise<Job> {
    const queued = await this.store.enqueue(job);
    for (const listener of this.listeners) listener();
    return queued;
  }

  /** Lets workers in this process know at once about jobs enqueued through the store directly (in a transaction). */
  poke(): void {
    for (const listener of this.listeners) listener();
  }

  list(filter: { status?: JobStatus; kind?: string; limit?: number } = {}): Promise<Job[]> {
    return this.store.list(filter);
  }

  /** Calls `listener` after every enqueue; returns the unsubscribe function. */
  onEnqueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

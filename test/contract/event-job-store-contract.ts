// The EventStore and JobStore contract, run against every database implementation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { EventStore } from '../../src/store/meta/event-store.js';
import { JobStore } from '../../src/store/meta/job-store.js';
import type { SqlDb } from '../../src/store/meta/sql.js';

export interface SharedDbHandle {
  /** A migrated, empty database. */
  db: SqlDb;
  /** A second connection to the same database, as another berth process would have. */
  peer: SqlDb;
  close(): Promise<void>;
}

const BACKOFF = { baseMs: 100, capMs: 250 };
const T = 1_000_000;

export function eventJobStoreContract(name: string, open: () => Promise<SharedDbHandle>): void {
  describe(`EventStore and JobStore contract: ${name}`, () => {
    let h: SharedDbHandle;
    let events: EventStore;
    let jobs: JobStore;
    beforeEach(async () => {
      h = await open();
      events = new EventStore(h.db);
      jobs = new JobStore(h.db, { backoff: BACKOFF });
    });
    afterEach(async () => h.close());

    const event = (type: string, repositoryName = 'app') => ({ type, registryId: '111122223333', repositoryName });

    it('events: appended in order, listed after a position, by type, with their fields', async () => {
      const first = await events.append({ ...event('repository.created'), createdAt: T });
      const pushed = await events.append({ ...event('image.pushed'), digest: 'sha256:' + 'a'.repeat(64), tag: 'v1', detail: { mediaType: 'm', size: 3 } });
      await events.append(event('image.deleted'));
      await events.append(event('image.pushed', 'other'));
      const all = await events.list();
      assert.deepEqual(all.map((e) => e.type), ['repository.created', 'image.pushed', 'image.deleted', 'image.pushed']);
      assert.ok(all.every((e, i) => i === 0 || e.seq > all[i - 1]!.seq), 'sequence numbers increase');
      assert.equal(new Set(all.map((e) => e.eventId)).size, 4);
      assert.match(first.eventId, /^[0-9a-f-]{36}$/);
      assert.equal(first.createdAt, T);
      assert.equal(first.digest, null);
      assert.deepEqual(all[1], pushed);
      assert.deepEqual(pushed.detail, { mediaType: 'm', size: 3 });
      assert.equal(pushed.tag, 'v1');
      assert.deepEqual((await events.list({ after: first.seq, limit: 2 })).map((e) => e.type), ['image.pushed', 'image.deleted']);
      assert.deepEqual((await events.list({ type: 'image.pushed' })).map((e) => e.repositoryName), ['app', 'other']);
      assert.deepEqual(await events.list({ after: all[3]!.seq }), []);
    });

    it('events: appended in a transaction, committed or rolled back with it', async () => {
      await h.db.transaction(async (tx) => {
        await new EventStore(tx).append(event('repository.created', 'kept'));
      });
      await assert.rejects(
        h.db.transaction(async (tx) => {
          await new EventStore(tx).append(event('repository.created', 'dropped'));
          throw new Error('the change failed');
        }),
        /the change failed/,
      );
      assert.deepEqual((await events.list()).map((e) => e.repositoryName), ['kept']);
    });

    it('enqueue: a dedupe key makes one job; exclusive enqueues nothing while one of its kind is pending', async () => {
      const a = await jobs.enqueue({ kind: 'gc.run', dedupeKey: 'gc:1', payload: { n: 1 } }, T);
      const again = await jobs.enqueue({ kind: 'gc.run', dedupeKey: 'gc:1', payload: { n: 2 } }, T + 1);
      assert.equal(again.id, a.id);
      assert.deepEqual(again.payload, { n: 1 });
      assert.equal(a.status, 'queued');
      assert.equal(a.attempts, 0);
      assert.equal(a.maxAttempts, 5);
      assert.equal(a.runAfter, T);
      const noKey = [await jobs.enqueue({ kind: 'scan' }, T), await jobs.enqueue({ kind: 'scan' }, T)];
      assert.notEqual(noKey[0]!.id, noKey[1]!.id, 'no key: no deduplication');
      assert.equal((await jobs.enqueue({ kind: 'gc.run', dedupeKey: 'gc:2', exclusive: true }, T)).id, a.id, 'gc:1 is still queued');
      assert.equal((await jobs.list({ kind: 'gc.run' })).length, 1);

      const claimed = await jobs.claim('w', ['gc.run'], 1000, T);
      assert.equal(claimed?.id, a.id);
      assert.equal(await jobs.complete(a.id, 'w', T), true);
      // Unique while the store keeps the job: a finished key is not run again.
      assert.equal((await jobs.enqueue({ kind: 'gc.run', dedupeKey: 'gc:1' }, T)).status, 'succeeded');
      const next = await jobs.enqueue({ kind: 'gc.run', dedupeKey: 'gc:2', exclusive: true }, T);
      assert.notEqual(next.id, a.id);
      assert.equal(next.dedupeKey, 'gc:2');
    });

    it('claim: concurrent claims from two connections give each job to one worker only', async () => {
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push((await jobs.enqueue({ kind: 'k', payload: { i } })).id);
      const peerJobs = new JobStore(h.peer);
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? jobs : peerJobs).claim(`worker-${i}`, ['k'], 60_000)),
      );
      const got = claims.filter((j) => j !== undefined);
      assert.equal(got.length, 10, 'ten claims got a job, ten got none');
      assert.deepEqual(got.map((j) => j.id).sort((a, b) => a - b), ids);
      assert.ok(got.every((j) => j.status === 'running' && j.attempts === 1 && j.claimedBy?.startsWith('worker-')));
      assert.equal(await jobs.claim('late', ['k'], 60_000), undefined);
    });

    it('claim: only due jobs of the given kinds, earliest runAfter first', async () => {
      const later = await jobs.enqueue({ kind: 'a', runAfter: T + 500 }, T);
      const sooner = await jobs.enqueue({ kind: 'a', runAfter: T + 100 }, T);
      await jobs.enqueue({ kind: 'b' }, T);
      assert.equal(await jobs.claim('w', ['a'], 1000, T + 99), undefined);
      assert.equal(await jobs.claim('w', [], 1000, T + 1000), undefined);
      assert.equal((await jobs.claim('w', ['a'], 1000, T + 1000))?.id, sooner.id);
      assert.equal((await jobs.claim('w', ['a', 'c'], 1000, T + 1000))?.id, later.id);
      assert.equal(await jobs.claim('w', ['a'], 1000, T + 1000), undefined);
      assert.equal((await jobs.claim('w', ['b'], 1000, T + 1000))?.kind, 'b');
    });

    it('a job whose worker died (lease expired) is claimed again, with the attempt counted', async () => {
      const job = await jobs.enqueue({ kind: 'k' }, T);
      const first = await jobs.claim('dead-worker', ['k'], 1000, T);
      assert.equal(first?.leaseUntil, T + 1000);
      assert.equal(await jobs.claim('w2', ['k'], 1000, T + 1000), undefined, 'the lease still holds');
      assert.equal(await jobs.extend(job.id, 'dead-worker', 1000, T + 900), true, 'its holder extends it');
      assert.equal(await jobs.claim('w2', ['k'], 1000, T + 1500), undefined, 'the extension holds');
      const second = await jobs.claim('w2', ['k'], 1000, T + 1901);
      assert.equal(second?.id, job.id);
      assert.equal(second?.attempts, 2);
      assert.equal(second?.claimedBy, 'w2');
      assert.equal(await jobs.extend(job.id, 'dead-worker', 1000, T + 1902), false, 'the old holder lost it');
      assert.equal(await jobs.complete(job.id, 'dead-worker', T + 1902), false);
      assert.equal(await jobs.fail(job.id, 'dead-worker', 'late', T + 1902), undefined);
      assert.equal(await jobs.complete(job.id, 'w2', T + 1903), true);
      const done = await jobs.get(job.id);
      assert.equal(done?.status, 'succeeded');
      assert.equal(done?.claimedBy, null);
      assert.equal(done?.leaseUntil, null);
      assert.equal(done?.updatedAt, T + 1903);
    });

    it('a job that keeps killing its worker is dead after maxAttempts', async () => {
      const job = await jobs.enqueue({ kind: 'k', maxAttempts: 2 }, T);
      await jobs.claim('w1', ['k'], 100, T);
      assert.equal((await jobs.claim('w2', ['k'], 100, T + 101))?.attempts, 2);
      assert.equal(await jobs.claim('w3', ['k'], 100, T + 202), undefined);
      const dead = await jobs.get(job.id);
      assert.equal(dead?.status, 'dead');
      assert.match(dead?.lastError ?? '', /lease expired/);
    });

    it('fail: retried after a backoff that doubles up to its cap, dead after maxAttempts', async () => {
      const job = await jobs.enqueue({ kind: 'k', maxAttempts: 4 }, T);
      let now = T;
      for (const [attempt, delay] of [[1, 100], [2, 200], [3, 250]] as const) {
        const claimed = await jobs.claim('w', ['k'], 1000, now);
        assert.equal(claimed?.attempts, attempt);
        const failed = await jobs.fail(job.id, 'w', `boom ${attempt}`, now);
        assert.equal(failed?.status, 'queued');
        assert.equal(failed?.runAfter, now + delay);
        assert.equal(failed?.lastError, `boom ${attempt}`);
        assert.equal(await jobs.claim('w', ['k'], 1000, now + delay - 1), undefined, 'not before its backoff');
        now += delay;
      }
      assert.equal((await jobs.claim('w', ['k'], 1000, now))?.attempts, 4);
      assert.equal((await jobs.fail(job.id, 'w', 'boom 4', now))?.status, 'dead');
      assert.equal(await jobs.claim('w', ['k'], 1000, now + 10_000_000), undefined);
      assert.deepEqual((await jobs.list({ status: 'dead' })).map((j) => [j.id, j.lastError]), [[job.id, 'boom 4']]);
    });

    it('list filters by status and kind, newest first; prune removes old finished jobs only', async () => {
      const a = await jobs.enqueue({ kind: 'a' }, T);
      const b = await jobs.enqueue({ kind: 'b' }, T);
      const c = await jobs.enqueue({ kind: 'a' }, T);
      await jobs.claim('w', ['b'], 1000, T);
      assert.deepEqual((await jobs.list()).map((j) => j.id), [c.id, b.id, a.id]);
      assert.deepEqual((await jobs.list({ kind: 'a' })).map((j) => j.id), [c.id, a.id]);
      assert.deepEqual((await jobs.list({ status: 'running' })).map((j) => j.id), [b.id]);
      assert.deepEqual((await jobs.list({ status: 'queued', kind: 'a', limit: 1 })).map((j) => j.id), [c.id]);
      await jobs.complete(b.id, 'w', T + 10);
      await jobs.claim('w', ['a'], 1000, T + 20);
      await jobs.complete(a.id, 'w', T + 30);
      assert.equal(await jobs.prune(T + 30), 1, 'b finished before the cutoff, a did not');
      assert.deepEqual((await jobs.list()).map((j) => j.id), [c.id, a.id]);
    });
  });
}

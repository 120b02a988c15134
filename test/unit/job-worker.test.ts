import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { JobQueue } from '../../src/domain/jobs/queue.js';
import { JobWorker, type JobWorkerOptions } from '../../src/domain/jobs/worker.js';
import type { Job } from '../../src/store/meta/job-store.js';
import { JobStore } from '../../src/store/meta/job-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { REPO_ROOT } from '../helpers/berth.js';

const silentLog = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Setup {
  file: string;
  store: JobStore;
  queue: JobQueue;
  worker(opts?: Partial<JobWorkerOptions>): JobWorker;
}

/** A fresh SQLite job store; every worker made here is stopped and the store removed afterwards. */
async function withJobs(fn: (s: Setup) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-jobs-'));
  const file = join(dir, 'metadata.db');
  const db = new SqliteDb(file);
  await migrate(db);
  const store = new JobStore(db, { backoff: { baseMs: 20, capMs: 40 } });
  const workers: JobWorker[] = [];
  try {
    await fn({
      file,
      store,
      queue: new JobQueue(store),
      worker: (opts = {}) => {
        const w = new JobWorker(store, { log: silentLog, pollMs: 5000, ...opts });
        workers.push(w);
        return w;
      },
    });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

const statusOf = async (store: JobStore, id: number) => (await store.get(id))?.status;

describe('JobWorker', () => {
  it('runs an enqueued job at once when poked by the queue, with its payload, and completes it', () =>
    withJobs(async ({ store, queue, worker }) => {
      const seen: Job[] = [];
      const w = worker().register('hello', async (job) => {
        seen.push(job);
      });
      w.start(queue);
      const started = Date.now();
      const job = await queue.enqueue({ kind: 'hello', payload: { name: 'berth' } });
      await until('the job succeeded', async () => (await statusOf(store, job.id)) === 'succeeded');
      assert.ok(Date.now() - started < 2000, 'ran without waiting for the 5 s poll');
      assert.deepEqual(seen.map((j) => [j.id, j.payload, j.attempts]), [[job.id, { name: 'berth' }, 1]]);
    }));

  it('polls for due jobs it was not told about, and leaves kinds it has no handler for', () =>
    withJobs(async ({ store, worker }) => {
      const job = await store.enqueue({ kind: 'polled' });
      const other = await store.enqueue({ kind: 'nobody-handles-this' });
      worker({ pollMs: 20 }).register('polled', async () => undefined).start();
      await until('the job succeeded', async () => (await statusOf(store, job.id)) === 'succeeded');
      assert.equal(await statusOf(store, other.id), 'queued');
    }));

  it('a throwing handler is retried with backoff until it succeeds', () =>
    withJobs(async ({ store, queue, worker }) => {
      const attempts: number[] = [];
      const times: number[] = [];
      worker({ pollMs: 5 })
        .register('flaky', async (job) => {
          attempts.push(job.attempts);
          times.push(Date.now());
          if (job.attempts < 3) throw new Error(`flaked on attempt ${job.attempts}`);
        })
        .start(queue);
      const job = await queue.enqueue({ kind: 'flaky' });
      await until('the job succeeded', async () => (await statusOf(store, job.id)) === 'succeeded');
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.ok(times[1]! - times[0]! >= 20, 'waited the base backoff');
      assert.ok(times[2]! - times[1]! >= 40, 'then twice that');
      const done = (await store.get(job.id))!;
      assert.equal(done.attempts, 3);
      assert.equal(done.lastError, 'flaked on attempt 2');
    }));

  it('a handler that always throws leaves the job dead after maxAttempts, with its error', () =>
    withJobs(async ({ store, queue, worker }) => {
      let runs = 0;
      worker({ pollMs: 5 })
        .register('broken', async () => {
          runs++;
          throw new Error('no good');
        })
        .start(queue);
      const job = await queue.enqueue({ kind: 'broken', maxAttempts: 3 });
      await until('the job is dead', async () => (await statusOf(store, job.id)) === 'dead');
      await sleep(100);
      assert.equal(runs, 3);
      assert.equal((await store.get(job.id))!.lastError, 'no good');
    }));

  it('stop() waits for the running job, then claims nothing more', () =>
    withJobs(async ({ store, queue, worker }) => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let started = 0;
      const w = worker({ pollMs: 10 }).register('slow', async () => {
        started++;
        await gate;
      });
      w.start(queue);
      const first = await queue.enqueue({ kind: 'slow' });
      await until('the job started', async () => started === 1);
      let stopped = false;
      const stopping = w.stop().then(() => (stopped = true));
      await sleep(50);
      assert.equal(stopped, false, 'stop() returned while the job ran');
      release();
      await stopping;
      assert.equal(await statusOf(store, first.id), 'succeeded');
      const second = await queue.enqueue({ kind: 'slow' });
      await sleep(100);
      assert.equal(started, 1);
      assert.equal(await statusOf(store, second.id), 'queued');
    }));

  it('extends the lease while a long job runs, so no other worker takes it', () =>
    withJobs(async ({ store, queue, worker }) => {
      let started = false;
      worker({ leaseMs: 60 })
        .register('long', async () => {
          started = true;
          await sleep(400);
        })
        .start(queue);
      const job = await queue.enqueue({ kind: 'long' });
      await until('the job started', async () => started);
      for (let i = 0; i < 6; i++) {
        await sleep(50);
        assert.equal(await store.claim('thief', ['long'], 1000), undefined, 'the lease was renewed');
      }
      await until('the job succeeded', async () => (await statusOf(store, job.id)) === 'succeeded');
      assert.equal((await store.get(job.id))!.attempts, 1);
    }));

  it('runs up to `concurrency` jobs at once', () =>
    withJobs(async ({ store, queue, worker }) => {
      let active = 0;
      let maxActive = 0;
      worker({ concurrency: 3, pollMs: 10 })
        .register('parallel', async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(100);
          active--;
        })
        .start(queue);
      const jobs = [];
      for (let i = 0; i < 6; i++) jobs.push(await queue.enqueue({ kind: 'parallel' }));
      await until('all succeeded', async () => (await store.list({ status: 'succeeded' })).length === 6);
      assert.equal(maxActive, 3);
    }));

  it('a job claimed by a process killed with -9 is run by another worker once its lease expires', () =>
    withJobs(async ({ file, store, worker }) => {
      const job = await store.enqueue({ kind: 'survivor' });
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/helpers/claim-and-hang.ts'), file, 'survivor', '500'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      await until('the child claimed the job', async () => out.includes('\n'), 30_000);
      assert.equal(out.trim(), `claimed ${job.id}`);
      child.kill('SIGKILL');
      await exited;
      const orphan = (await store.get(job.id))!;
      assert.equal(orphan.status, 'running');
      assert.match(orphan.claimedBy ?? '', /^doomed:/);

      const ran: Array<{ attempt: number; at: number }> = [];
      worker({ pollMs: 20 })
        .register('survivor', async (j) => {
          ran.push({ attempt: j.attempts, at: Date.now() });
        })
        .start();
      await until('the job succeeded', async () => (await statusOf(store, job.id)) === 'succeeded');
      assert.deepEqual(ran.map((r) => r.attempt), [2], 'run once more, as its second attempt');
      assert.ok(ran[0]!.at > orphan.leaseUntil!, 'not before the lease expired');
    }));
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduleJob, startPeriodic } from '../../src/domain/jobs/periodic.js';
import { JobQueue } from '../../src/domain/jobs/queue.js';
import { JobWorker } from '../../src/domain/jobs/worker.js';
import { runAllLifecyclePolicies } from '../../src/domain/lifecycle/runner.js';
import { openFixture, pushImage, rule, setPolicy, silentLog } from './lifecycle-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('periodic background tasks', () => {
  it('runs on its interval, never overlaps, and stop() waits for the run in progress', async () => {
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    let finished = 0;
    const task = startPeriodic('test', 0.05, async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(120);
      active--;
      finished++;
    }, silentLog);
    await sleep(400);
    await task.stop();
    assert.ok(runs >= 2, `ran ${runs} times`);
    assert.equal(maxActive, 1);
    assert.equal(finished, runs, 'stop() returned before a run finished');
    await sleep(150);
    assert.equal(runs, finished, 'ran again after stop()');
  });

  it('an interval of 0 never runs', async () => {
    let runs = 0;
    const task = startPeriodic('off', 0, async () => {
      runs++;
    }, silentLog);
    await sleep(50);
    await task.stop();
    assert.equal(runs, 0);
  });

  it('as jobs: several nodes on one store enqueue one job per interval and never run two at once', async () => {
    const f = await openFixture();
    const nodes = [0, 1].map(() => {
      const queue = new JobQueue(f.meta.jobs);
      return { queue, worker: new JobWorker(f.meta.jobs, { log: silentLog, pollMs: 10 }) };
    });
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    const tasks = nodes.map(({ queue, worker }) => {
      worker.register('test.run', async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(120);
        active--;
      });
      worker.start(queue);
      return scheduleJob(queue, 'test.run', 0.05, silentLog);
    });
    try {
      await sleep(500);
    } finally {
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(nodes.map((n) => n.worker.stop()));
    }
    const jobs = await f.meta.jobs.list({ kind: 'test.run' });
    await f.close();
    assert.ok(runs >= 2, `ran ${runs} times`);
    assert.equal(maxActive, 1);
    assert.equal(new Set(jobs.map((j) => j.dedupeKey)).size, jobs.length, 'one job per interval');
    assert.ok(jobs.every((j) => j.status === 'succeeded'));
    assert.equal(jobs.length, runs);
  });

  it('as jobs: an interval of 0 enqueues nothing', async () => {
    const f = await openFixture();
    try {
      const task = scheduleJob(new JobQueue(f.meta.jobs), 'off', 0, silentLog);
      await sleep(50);
      await task.stop();
      assert.deepEqual(await f.meta.jobs.list(), []);
    } finally {
      await f.close();
    }
  });

  it('runAllLifecyclePolicies runs every repository with a policy and only those', async () => {
    const f = await openFixture('with-policy');
    try {
      await pushImage(f, 'a', [], 1);
      await pushImage(f, 'b', [], 0);
      await setPolicy(f, [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })]);
      const other = (await f.meta.createRepository(f.repo.registryId, 'without-policy'))!;
      const results = await runAllLifecyclePolicies(f.registry, silentLog);
      assert.deepEqual(results.map((r) => [r.repositoryName, r.expired.length]), [['with-policy', 1]]);
      assert.equal((await f.meta.getRepositoryById(other.id))!.settings.lifecyclePolicyLastEvaluatedAt, undefined);
      assert.deepEqual(await runAllLifecyclePolicies(f.registry, silentLog, { name: 'without-policy' }), []);
    } finally {
      await f.close();
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startPeriodic } from '../../src/lifecycle/scheduler.js';
import { runAllLifecyclePolicies } from '../../src/lifecycle/runner.js';
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

// Background work as jobs: with one-second intervals, the server enqueues a GC job and a lifecycle
// job every second and runs them; `berth admin jobs list` shows them succeeding, and they keep
// doing so after the server is killed with -9 and started again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { run } from '../helpers/tools.js';

interface JobJson {
  id: number;
  kind: string;
  dedupeKey: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
}

async function admin(b: Berth, args: string[]): Promise<string> {
  const out = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', ...args, '--data-dir', b.dataDir], { env: { BERTH_LOG_LEVEL: 'warn' } });
  return out.stdout;
}

async function jobs(b: Berth, ...filters: string[]): Promise<JobJson[]> {
  return JSON.parse(await admin(b, ['jobs', 'list', '--json', '--limit', '1000', ...filters])) as JobJson[];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('background jobs', () => {
  let b: Berth;

  before(async () => {
    b = await startBerth({ env: { BERTH_GC_INTERVAL: '1', BERTH_LIFECYCLE_INTERVAL: '1' } });
  });

  after(async () => {
    await b?.destroy();
  });

  it('gc and lifecycle jobs are enqueued every interval and succeed', async () => {
    await waitFor('two succeeded gc jobs and a lifecycle job', async () => {
      const done = await jobs(b, '--status', 'succeeded');
      return done.filter((j) => j.kind === 'gc.run').length >= 2 && done.some((j) => j.kind === 'lifecycle.run-all');
    }, 30_000);
    const gc = await jobs(b, '--kind', 'gc.run');
    assert.ok(gc.every((j) => j.kind === 'gc.run' && /^gc\.run:\d+$/.test(j.dedupeKey ?? '')), JSON.stringify(gc));
    assert.equal(new Set(gc.map((j) => j.dedupeKey)).size, gc.length, 'one job per interval');
    assert.ok(gc.every((j) => j.status !== 'dead' && j.lastError === null), JSON.stringify(gc));
    assert.deepEqual(await jobs(b, '--status', 'dead'), []);
  });

  it('the text listing shows the jobs; the event outbox lists as JSON', async () => {
    const text = await admin(b, ['jobs', 'list', '--kind', 'gc.run', '--limit', '3']);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+KIND\s+STATUS\s+ATTEMPTS\s+RUN AFTER\s+LAST ERROR$/);
    assert.equal(lines.length, 4);
    assert.ok(lines.slice(1).every((l) => /^\d+\s+gc\.run\s+(queued|running|succeeded)\s+\d+\/5\s+\d{4}-\d\d-\d\dT/.test(l)), text);
    assert.ok(Array.isArray(JSON.parse(await admin(b, ['events', 'list', '--json']))));
  });

  it('after kill -9 and a restart, every job from before is done and new ones keep succeeding', async () => {
    await b.kill9();
    const fromBefore = new Set((await jobs(b)).map((j) => j.id));
    await b.restart();
    // A job the killed server was running waits for its lease (30 s) to expire, then runs again.
    await waitFor('the jobs from before the kill to succeed, and two new gc jobs', async () => {
      const all = await jobs(b);
      const old = all.filter((j) => fromBefore.has(j.id));
      const fresh = all.filter((j) => !fromBefore.has(j.id) && j.kind === 'gc.run' && j.status === 'succeeded');
      return old.every((j) => j.status === 'succeeded') && fresh.length >= 2;
    }, 60_000);
    assert.deepEqual(await jobs(b, '--status', 'dead'), []);
  });
});
